//! Keeping the allocator's memory near the working set (for the binaries that run pipelines:
//! the CLI, and the benchmark, which includes this file).

/// glibc gives threads that contend for memory arenas of their own (up to eight per core) and
/// hands little of them back, which doubled the peak memory of large runs. Bounding the arenas
/// is only possible before the process starts, so a binary that runs pipelines calls this first:
/// it starts itself again, once, with `MALLOC_ARENA_MAX=2` (a value the user set is kept).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn bound_allocator_arenas() {
    use std::os::unix::process::CommandExt as _;
    const ARENAS: &str = "MALLOC_ARENA_MAX";
    if std::env::var_os(ARENAS).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(exe);
    if let Some(arg0) = args.next() {
        command.arg0(arg0);
    }
    // `exec` returns only if it failed; the run then goes on with the default arenas.
    let _failed = command.args(args).env(ARENAS, "2").exec();
}

/// Nothing to do off glibc.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn bound_allocator_arenas() {}
