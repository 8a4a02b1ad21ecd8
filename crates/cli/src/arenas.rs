//! Keeping the allocator's memory near the working set (for the binaries that run pipelines:
//! the CLI, and the benchmark, which includes this file).

/// Two glibc defaults keep memory the process no longer uses, and both can only be changed
/// before the process starts, so a binary that runs pipelines calls this first: it starts
/// itself again, once, with them set (unless the user set `MALLOC_ARENA_MAX`; values the user
/// set are kept).
/// - Threads that contend for memory get arenas of their own (up to eight per core), and little
///   of them is handed back: that doubled the peak memory of large runs. `MALLOC_ARENA_MAX=2`.
/// - Freeing a large block raises the size from which blocks are mapped on their own (up to
///   32 MiB), so later Arrow buffers land in the arenas among the many small JSON values of a
///   read and stay there after they are freed. A fixed `MALLOC_MMAP_THRESHOLD_` keeps blocks
///   of 128 KiB and more mapped, and given back when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn bound_allocator_arenas() {
    use std::os::unix::process::CommandExt as _;
    const ARENAS: &str = "MALLOC_ARENA_MAX";
    const MMAP_THRESHOLD: &str = "MALLOC_MMAP_THRESHOLD_";
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
    command.args(args).env(ARENAS, "2");
    if std::env::var_os(MMAP_THRESHOLD).is_none() {
        command.env(MMAP_THRESHOLD, "131072");
    }
    // `exec` returns only if it failed; the run then goes on with glibc's defaults.
    let _failed = command.exec();
}

/// Nothing to do off glibc.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn bound_allocator_arenas() {}
