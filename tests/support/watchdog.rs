//! A hung test fails its binary instead of holding CI until its deadline:
//! a test holds a [`Watched`] guard; when one is held longer than
//! [`LIMIT`], the watchdog names the test on stderr and ends the process
//! with a failure. (A hang can sit where no timeout reaches it, such as a
//! runtime waiting on its blocking threads as it drops.)

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Far above any test's own waits; far below CI's deadline.
pub const LIMIT: Duration = Duration::from_secs(300);

fn watched() -> &'static Mutex<HashMap<u64, (String, Instant)>> {
    static WATCHED: OnceLock<Mutex<HashMap<u64, (String, Instant)>>> = OnceLock::new();
    WATCHED.get_or_init(|| {
        std::thread::spawn(|| loop {
            std::thread::sleep(Duration::from_secs(1));
            let hung = watched()
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .values()
                .find(|(_, since)| since.elapsed() > LIMIT)
                .map(|(name, _)| name.clone());
            if let Some(name) = hung {
                eprintln!(
                    "watchdog: {name} has not finished {LIMIT:?} after it started \
                     (or it failed and hangs tearing down); failing the run"
                );
                std::process::exit(101);
            }
        });
        Mutex::new(HashMap::new())
    })
}

/// Watches the calling test (named by its thread) while alive.
pub struct Watched(u64);

impl Watched {
    pub fn start() -> Watched {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = std::thread::current()
            .name()
            .unwrap_or("a test")
            .to_string();
        watched()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, (name, Instant::now()));
        Watched(id)
    }
}

impl Drop for Watched {
    /// A test that panics stays watched: its runtime may still hang as it
    /// drops after the guard.
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        watched()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.0);
    }
}
