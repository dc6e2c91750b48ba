//! generations: "which complete build of the knowledge answers from this
//! data folder, and how does a new build replace it safely?"
//!
//! A data folder holds:
//! - `state.db`: the shared state (`src/state`), never touched here;
//! - `build.lock`: the builder lock (an advisory file lock), holding the
//!   pid of the process that builds;
//! - `CURRENT`: the name of the complete generation that answers;
//! - `generations/NAME/`: one build (`facts.bin`: its tables, `index/`,
//!   `lease`);
//! - `read-cache.json`: what reading each knowledge document gave, keyed
//!   by the file's stat, and `read-cache.signature`: the knowledge version
//!   of the folder's files as they last stood (the signature of their
//!   names and stats): only caches, replaced atomically, ignored when
//!   missing or unreadable.
//!
//! Invariants: one builder per data folder (the builder lock). A
//! generation is named in `CURRENT` only once all its files are synced,
//! and `CURRENT` is replaced atomically (write a temporary file, fsync,
//! rename, fsync the folder), so a kill or a full disk at any moment
//! leaves the last complete generation answering. A reader holds a shared
//! lock on its generation's `lease` for as long as it answers from it; the
//! builder removes a generation only when it is not `CURRENT` and its lease
//! can be locked exclusively, and first renames it away so that no reader
//! can take it up half deleted. Nothing is deleted before its replacement
//! is complete.

use fs4::fs_std::FileExt;
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

const POINTER: &str = "CURRENT";
const GENERATIONS: &str = "generations";
const BUILD_LOCK: &str = "build.lock";
const LEASE: &str = "lease";
const READ_CACHE: &str = "read-cache.json";
const SIGNATURE: &str = "read-cache.signature";

/// Why the data folder could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DataFolderError {
    /// A file or folder of the data folder could not be read or written.
    #[error("data folder: {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Read-only, and no complete build to answer from.
    #[error("the data folder {path} holds no complete knowledge build and is read-only, so none can be built; run `reindex` on a writable copy first")]
    EmptyReadOnly { path: PathBuf },
    /// Another process builds, and we were asked not to wait.
    #[error("the data folder {path} is being built by {holder} (lock file {lock}); not waiting (--no-wait)")]
    Busy {
        path: PathBuf,
        lock: PathBuf,
        holder: String,
    },
    /// `CURRENT` names something that is not a generation.
    #[error("{path} names a generation that is missing or damaged")]
    Damaged { path: PathBuf },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DataFolderError + '_ {
    move |source| DataFolderError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Whether to wait for another builder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Wait, after telling `on_wait` who holds the lock.
    Yes,
    /// Fail with [`DataFolderError::Busy`].
    No,
}

/// One data folder, opened for reading (and building, unless read-only).
#[derive(Debug, Clone)]
pub struct DataFolder {
    root: PathBuf,
    read_only: bool,
}

/// A complete generation this process answers from; the shared lock on its
/// lease is held until this is dropped.
#[derive(Debug)]
pub struct Generation {
    pub name: String,
    pub dir: PathBuf,
    _lease: Option<File>,
}

impl Generation {
    /// The knowledge version the generation was built for.
    pub fn version(&self) -> &str {
        version_of(&self.name)
    }
    pub fn facts_file(&self) -> PathBuf {
        self.dir.join(crate::knowledge::facts_file::FACTS_FILE)
    }
    pub fn index_dir(&self) -> PathBuf {
        self.dir.join("index")
    }
}

fn version_of(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

/// The builder lock of a data folder, held until dropped.
#[derive(Debug)]
pub struct BuilderLock {
    folder: DataFolder,
    _file: File,
}

impl DataFolder {
    /// A data folder at `root`; created (with `generations/`) unless
    /// `read_only`. One that cannot be written is opened read-only.
    pub fn open(root: &Path, read_only: bool) -> Result<DataFolder, DataFolderError> {
        let folder = DataFolder {
            root: root.to_path_buf(),
            read_only,
        };
        if read_only {
            return Ok(folder);
        }
        let generations = folder.generations();
        let probe = std::fs::create_dir_all(&generations).and_then(|()| {
            OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .open(folder.lock_path())
                .map(drop)
        });
        match probe {
            Ok(()) => Ok(folder),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem
                ) =>
            {
                tracing::info!(path = %root.display(), "the data folder cannot be written: read-only");
                Ok(DataFolder {
                    read_only: true,
                    ..folder
                })
            }
            Err(e) => Err(io(&generations)(e)),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    fn generations(&self) -> PathBuf {
        self.root.join(GENERATIONS)
    }

    fn pointer(&self) -> PathBuf {
        self.root.join(POINTER)
    }

    /// The read cache (`knowledge::files::ReadCache`): what reading each
    /// document file gave, so that an unchanged file is not read again.
    pub fn read_cache_path(&self) -> PathBuf {
        self.root.join(READ_CACHE)
    }

    /// The knowledge version of the folder's files as they last stood
    /// (`knowledge::files::Signature`).
    pub fn signature_path(&self) -> PathBuf {
        self.root.join(SIGNATURE)
    }

    fn lock_path(&self) -> PathBuf {
        self.root.join(BUILD_LOCK)
    }

    /// The name `CURRENT` holds, if any.
    fn current_name(&self) -> Result<Option<String>, DataFolderError> {
        let path = self.pointer();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let name = text.trim();
                if name.is_empty() || name.contains('/') || name.starts_with('.') {
                    return Err(DataFolderError::Damaged { path });
                }
                Ok(Some(name.to_string()))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// The complete generation `CURRENT` names, with a shared lease taken;
    /// None when no build ever completed. Retries when a builder switched
    /// `CURRENT` while this looked.
    pub fn current(&self) -> Result<Option<Generation>, DataFolderError> {
        for _ in 0..20 {
            let Some(name) = self.current_name()? else {
                return Ok(None);
            };
            let dir = self.generations().join(&name);
            let lease_path = dir.join(LEASE);
            let lease = match File::open(&lease_path) {
                Ok(f) => f,
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    if self.current_name()?.as_deref() == Some(name.as_str()) {
                        return Err(DataFolderError::Damaged {
                            path: self.pointer(),
                        });
                    }
                    continue;
                }
                Err(e) => return Err(io(&lease_path)(e)),
            };
            // On a read-only volume nobody can remove the generation, so a
            // lease that cannot be taken there does not matter.
            match FileExt::lock_shared(&lease) {
                Ok(()) => {}
                Err(_) if self.read_only => {}
                Err(e) => return Err(io(&lease_path)(e)),
            }
            // Removed (renamed away) while we waited for the lease?
            if !still_there(&lease, &lease_path) {
                continue;
            }
            return Ok(Some(Generation {
                name,
                dir,
                _lease: Some(lease),
            }));
        }
        Err(DataFolderError::Damaged {
            path: self.pointer(),
        })
    }

    /// Takes the builder lock, waiting (after calling `on_wait` with the
    /// holder) or not.
    pub fn lock_builder(
        &self,
        wait: Wait,
        on_wait: &dyn Fn(&str),
    ) -> Result<BuilderLock, DataFolderError> {
        if self.read_only {
            return Err(DataFolderError::EmptyReadOnly {
                path: self.root.clone(),
            });
        }
        if let Some(lock) = self.try_lock_builder()? {
            return Ok(lock);
        }
        let holder = self.holder();
        if wait == Wait::No {
            return Err(DataFolderError::Busy {
                path: self.root.clone(),
                lock: self.lock_path(),
                holder,
            });
        }
        on_wait(&holder);
        let path = self.lock_path();
        let file = self.open_lock_file()?;
        FileExt::lock_exclusive(&file).map_err(io(&path))?;
        self.claim(file)
    }

    /// The builder lock if no other process holds it.
    pub fn try_lock_builder(&self) -> Result<Option<BuilderLock>, DataFolderError> {
        if self.read_only {
            return Ok(None);
        }
        let path = self.lock_path();
        let file = self.open_lock_file()?;
        if !FileExt::try_lock_exclusive(&file).map_err(io(&path))? {
            return Ok(None);
        }
        self.claim(file).map(Some)
    }

    fn open_lock_file(&self) -> Result<File, DataFolderError> {
        let path = self.lock_path();
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io(&path))
    }

    /// Writes our pid into the lock file we now hold.
    fn claim(&self, mut file: File) -> Result<BuilderLock, DataFolderError> {
        let path = self.lock_path();
        file.set_len(0).map_err(io(&path))?;
        writeln!(file, "{}", std::process::id()).map_err(io(&path))?;
        Ok(BuilderLock {
            folder: self.clone(),
            _file: file,
        })
    }

    /// "process N" as the lock file names it, or "another process".
    fn holder(&self) -> String {
        let mut text = String::new();
        let _ = File::open(self.lock_path()).and_then(|mut f| f.read_to_string(&mut text));
        match text.trim().parse::<u32>() {
            Ok(pid) => format!("process {pid}"),
            Err(_) => "another process".to_string(),
        }
    }
}

/// Whether `path` still names the file `file` is open on.
fn still_there(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

fn sync_dir(dir: &Path) -> Result<(), DataFolderError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// A generation being built: not named in `CURRENT` yet.
#[derive(Debug)]
pub struct NewGeneration {
    pub name: String,
    pub dir: PathBuf,
}

impl NewGeneration {
    pub fn facts_file(&self) -> PathBuf {
        self.dir.join(crate::knowledge::facts_file::FACTS_FILE)
    }
    pub fn index_dir(&self) -> PathBuf {
        self.dir.join("index")
    }
}

impl BuilderLock {
    pub fn folder(&self) -> &DataFolder {
        &self.folder
    }

    /// An empty folder for a new generation of `version`.
    pub fn new_generation(&self, version: &str) -> Result<NewGeneration, DataFolderError> {
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let name = format!("{version}.{stamp}.{}", std::process::id());
        let dir = self.folder.generations().join(&name);
        std::fs::create_dir(&dir).map_err(io(&dir))?;
        let lease = dir.join(LEASE);
        File::create(&lease).map_err(io(&lease))?;
        Ok(NewGeneration { name, dir })
    }

    /// Makes a fully written generation the one that answers: syncs it,
    /// takes a reader's lease on it, then switches `CURRENT` atomically.
    pub fn publish(&self, new: NewGeneration) -> Result<Generation, DataFolderError> {
        sync_tree(&new.dir)?;
        sync_dir(&self.folder.generations())?;
        let lease_path = new.dir.join(LEASE);
        let lease = File::open(&lease_path).map_err(io(&lease_path))?;
        FileExt::lock_shared(&lease).map_err(io(&lease_path))?;
        let pointer = self.folder.pointer();
        let temp = self
            .folder
            .root
            .join(format!(".{POINTER}.{}", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = File::create(&temp)?;
            writeln!(f, "{}", new.name)?;
            f.sync_all()?;
            std::fs::rename(&temp, &pointer)
        };
        if let Err(e) = write() {
            let _ = std::fs::remove_file(&temp);
            return Err(io(&pointer)(e));
        }
        sync_dir(&self.folder.root)?;
        Ok(Generation {
            name: new.name,
            dir: new.dir,
            _lease: Some(lease),
        })
    }

    /// Removes every generation that is not `CURRENT` and that no process
    /// reads (partial ones included); returns how many.
    pub fn remove_unused(&self) -> usize {
        let generations = self.folder.generations();
        let current = self.folder.current_name().ok().flatten();
        let Ok(entries) = std::fs::read_dir(&generations) else {
            return 0;
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if Some(&name) == current.as_ref() {
                continue;
            }
            let path = entry.path();
            if !name.starts_with('.') {
                // A lease held by a reader keeps the generation; ours is
                // held until the generation is renamed away.
                let lease = File::open(path.join(LEASE)).ok();
                if let Some(lease) = &lease {
                    if !FileExt::try_lock_exclusive(lease).unwrap_or(false) {
                        continue;
                    }
                }
                let trash = generations.join(format!(".removing.{name}"));
                let renamed = std::fs::rename(&path, &trash).is_ok();
                drop(lease);
                if !renamed {
                    continue;
                }
                removed += 1;
                let _ = std::fs::remove_dir_all(&trash);
            } else if name.starts_with(".removing.") {
                let _ = std::fs::remove_dir_all(&path);
            }
        }
        // A temporary pointer left by a killed builder.
        if let Ok(entries) = std::fs::read_dir(&self.folder.root) {
            for e in entries.flatten() {
                if e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!(".{POINTER}."))
                {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        removed
    }
}

/// fsync of every file and folder under `dir`.
fn sync_tree(dir: &Path) -> Result<(), DataFolderError> {
    let entries = std::fs::read_dir(dir).map_err(io(dir))?;
    for entry in entries {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        if path.is_dir() {
            sync_tree(&path)?;
        } else {
            File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(io(&path))?;
        }
    }
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generation_read_by_a_process_survives_the_next_build_and_goes_after() {
        let dir = tempfile::tempdir().unwrap();
        let folder = DataFolder::open(dir.path(), false).unwrap();
        assert!(folder.current().unwrap().is_none());
        let lock = folder.lock_builder(Wait::No, &|_| {}).unwrap();
        let first = lock.new_generation("aaa").unwrap();
        let first = lock.publish(first).unwrap();
        assert_eq!(first.version(), "aaa");
        let reader = folder.current().unwrap().unwrap();
        drop(first);
        let second = lock.new_generation("bbb").unwrap();
        let partial = lock.new_generation("ccc").unwrap();
        let second = lock.publish(second).unwrap();
        assert_eq!(lock.remove_unused(), 1, "only the partial one goes");
        assert!(reader.dir.exists() && !partial.dir.exists());
        drop(reader);
        assert_eq!(lock.remove_unused(), 1);
        assert_eq!(folder.current().unwrap().unwrap().name, second.name);
    }

    #[test]
    fn a_second_builder_is_refused_naming_the_pid_when_not_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let folder = DataFolder::open(dir.path(), false).unwrap();
        let _held = folder.lock_builder(Wait::No, &|_| {}).unwrap();
        let err = folder.lock_builder(Wait::No, &|_| {}).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!("process {}", std::process::id())),
            "{text}"
        );
        assert!(text.contains("build.lock"), "{text}");
    }

    #[test]
    fn an_empty_read_only_folder_names_its_path_once() {
        let dir = tempfile::tempdir().unwrap();
        let folder = DataFolder::open(&dir.path().join("replica"), true).unwrap();
        assert!(folder.current().unwrap().is_none());
        let text = folder
            .lock_builder(Wait::Yes, &|_| {})
            .unwrap_err()
            .to_string();
        assert_eq!(text.matches("replica").count(), 1, "{text}");
        assert!(text.contains("read-only"), "{text}");
    }
}
