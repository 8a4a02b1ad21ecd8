//! Keeping panics that delta-rs expects (and recovers from) off the user's screen.

use std::panic::PanicHookInfo;

/// When a data file cannot be written (a full or read-only disk), delta-rs aborts the upload,
/// object_store's buffered writer panics with "Already shut down" because the failed write
/// already shut it, and delta-rs catches that panic and reports the write error, which the
/// table's error then carries. The default panic hook has printed the panic with a backtrace
/// by then. A binary that runs pipelines calls this once: such panics are not printed, every
/// other panic is, as before.
pub fn quiet_recovered_storage_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !is_recovered_storage_panic(info) {
            default(info);
        }
    }));
}

fn is_recovered_storage_panic(info: &PanicHookInfo<'_>) -> bool {
    let message = info
        .payload()
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str));
    let file = info.location().map(std::panic::Location::file);
    is_recovered(file, message)
}

/// The panic of object_store's buffered writer aborted after a failed write.
fn is_recovered(file: Option<&str>, message: Option<&str>) -> bool {
    let in_buffered_writer = file.is_some_and(|f| {
        let f = f.replace('\\', "/");
        f.contains("/object_store-") && f.ends_with("/src/buffered.rs")
    });
    in_buffered_writer && message == Some("Already shut down")
}

#[cfg(test)]
mod tests {
    use super::is_recovered;

    #[test]
    fn only_the_buffered_writers_shutdown_panic_is_quiet() {
        let file =
            "/root/.cargo/registry/src/index.crates.io-x/object_store-0.13.2/src/buffered.rs";
        assert!(is_recovered(Some(file), Some("Already shut down")));
        assert!(!is_recovered(Some(file), Some("index out of bounds")));
        assert!(!is_recovered(
            Some("crates/cli/src/output.rs"),
            Some("Already shut down")
        ));
        assert!(!is_recovered(None, Some("Already shut down")));
    }
}
