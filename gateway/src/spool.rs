//! The exposure spool: a local append-only log of first exposures, so that every answered
//! assignment reaches `ab.exposures` even if the gateway is killed, Postgres is down for
//! minutes, or Postgres absorbs exposures slower than units arrive.
//!
//! `/assign` hands each first exposure to the appender thread and answers without waiting.
//! The appender writes what has arrived to the current segment file within a millisecond (a
//! killed process keeps what the kernel has), and another thread fsyncs it every `fsync_interval`
//! (a machine crash loses at most that window plus the fsync's own time). The flusher reads the segments behind the
//! appender, writes them to Postgres and deletes a segment once all of it is committed.
//! On start, segments left by the previous run are checked, a torn tail is cut, and they
//! are replayed first; rows already stored are skipped by `ON CONFLICT DO NOTHING`.
//!
//! The gateway refuses to start rather than start empty while exposures are owed that it
//! cannot read: a segment it cannot read, damage that is not a torn tail (a sealed
//! segment was synced whole before the next began, so only the newest can be torn), or a
//! missing or emptied spool directory while the marker beside it (`<dir>.owed`, written
//! when the spool opens, removed once a clean stop has committed everything) says an
//! earlier run left exposures owed.
//!
//! A record is `length u32 | crc32 u32 | payload`, little-endian; the payload is the
//! exposure time in microseconds (i64) and three strings, each `length u16 | UTF-8`.

use chrono::{DateTime, Utc};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, PoisonError};
use std::time::Duration;
use tokio::sync::watch;

/// A segment is sealed and a new one started past this size.
const SEGMENT_BYTES: u64 = 16 << 20;
const HEADER_BYTES: usize = 8;
/// The longest payload the format can hold: the time and three strings of at most
/// `u16::MAX` bytes. A header declaring more was not written by `encode`.
const MAX_PAYLOAD: usize = 8 + 3 * (2 + u16::MAX as usize);
/// Writes are grouped up to this many bytes per `write` call.
const WRITE_CHUNK: usize = 1 << 20;
/// After a write the appender lets exposures gather this long. Blocked in `recv`, it would
/// be woken by every `append` (a futex call on the request path, and on a busy machine a
/// context switch onto the core answering requests); a SIGKILL can lose at most this window.
const GATHER: Duration = Duration::from_millis(1);

pub struct Exposure {
    pub experiment_id: String,
    pub user_id: String,
    pub variant_id: String,
    pub at: DateTime<Utc>,
}

/// Where a record starts: segment number and byte offset in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub segment: u64,
    pub offset: u64,
}

/// How far the appender has written; everything before `written` can be read.
#[derive(Clone, Copy, Debug)]
struct Frontier {
    written: Position,
    finished: bool,
}

/// Counters shared by the appender, the flusher and `/metrics`, and the bound they are held to.
struct Usage {
    disk_bytes: AtomicU64,
    unflushed_bytes: AtomicU64,
    failing: AtomicBool,
    max_bytes: u64,
}

impl Usage {
    /// The share of the bound taken by exposures not yet in Postgres.
    fn backlog_share(&self) -> f64 {
        self.unflushed_bytes.load(Ordering::Relaxed) as f64 / self.max_bytes.max(1) as f64
    }
}

/// The spool's limits and timing.
pub struct SpoolSettings {
    pub dir: PathBuf,
    pub fsync_interval: Duration,
    pub max_bytes: u64,
}

/// The appending side, held by the request path.
pub struct Spool {
    sender: mpsc::Sender<Exposure>,
    usage: Arc<Usage>,
}

#[derive(Debug)]
pub struct SpoolFull;

impl Spool {
    /// Opens (or creates) the spool directory, which only this process may use, checks the
    /// segments of an earlier run and starts the appender thread. Returns the spool, the
    /// reader that replays earlier segments first, and the appender's handle, which ends
    /// once every `Spool` is dropped and all it was given is written and synced.
    pub fn open(settings: SpoolSettings) -> io::Result<(Spool, SpoolReader, std::thread::JoinHandle<()>)> {
        let dir = &settings.dir;
        let marker = owed_marker(dir);
        if marker.exists() && !holds_segments(dir)? {
            let state = if dir.exists() { "holds no spool segments" } else { "is missing" };
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "exposures of an earlier run are owed to Postgres ({} says so), but the exposure spool directory {} {state}. \
                     Mount or restore it, or point --exposure-spool-dir at the spool; to start without those exposures, delete {}",
                    marker.display(),
                    dir.display(),
                    marker.display()
                ),
            ));
        }
        fs::create_dir_all(dir).map_err(|e| annotate(e, "creating the exposure spool directory", dir))?;
        let lock = File::create(dir.join("LOCK")).map_err(|e| annotate(e, "opening", &dir.join("LOCK")))?;
        lock.try_lock().map_err(|_| {
            io::Error::other(format!("the exposure spool {} is in use by another gateway; give each its own", dir.display()))
        })?;
        let mut segments = segment_numbers(dir)?;
        let mut recovered = 0;
        for (i, &number) in segments.iter().enumerate() {
            recovered += recover_segment(&segment_path(dir, number), i + 1 == segments.len())?;
        }
        let active = segments.last().map_or(1, |last| last + 1);
        segments.push(active);
        let file = create_segment(dir, active).map_err(|e| annotate(e, "creating", &segment_path(dir, active)))?;
        write_owed_marker(dir);
        let usage = Arc::new(Usage {
            disk_bytes: AtomicU64::new(recovered),
            unflushed_bytes: AtomicU64::new(recovered),
            failing: AtomicBool::new(false),
            max_bytes: settings.max_bytes,
        });
        let written = Position { segment: active, offset: 0 };
        let (frontier, frontier_seen) = watch::channel(Frontier { written, finished: false });
        let (sender, receiver) = mpsc::channel();
        let syncer = Arc::new(Syncer {
            dir: settings.dir.clone(),
            usage: Arc::clone(&usage),
            current: std::sync::Mutex::new(file.try_clone()?),
            written: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        });
        let appender =
            Appender { dir: settings.dir.clone(), file, written, usage: Arc::clone(&usage), frontier, syncer, _lock: lock };
        let fsync_interval = settings.fsync_interval;
        let handle =
            std::thread::Builder::new().name("exposure-spool".into()).spawn(move || appender.run(receiver, fsync_interval))?;
        let reader = SpoolReader {
            dir: settings.dir,
            position: Position { segment: segments[0], offset: 0 },
            frontier: frontier_seen,
            usage: Arc::clone(&usage),
        };
        Ok((Spool { sender, usage }, reader, handle))
    }

    /// Appends an exposure, unless the spool is at its size bound or cannot write.
    pub fn append(&self, exposure: Exposure) -> Result<(), SpoolFull> {
        if self.is_full() {
            return Err(SpoolFull);
        }
        self.sender.send(exposure).map_err(|_| SpoolFull)
    }

    /// At the bound of exposures not yet in Postgres, or unable to write. Disk use is at
    /// most the bound plus the committed start of one segment.
    pub fn is_full(&self) -> bool {
        self.usage.unflushed_bytes.load(Ordering::Relaxed) >= self.usage.max_bytes || self.usage.failing.load(Ordering::Relaxed)
    }

    pub fn disk_bytes(&self) -> u64 {
        self.usage.disk_bytes.load(Ordering::Relaxed)
    }

    /// Bytes of exposures spooled but not yet committed to Postgres.
    pub fn unflushed_bytes(&self) -> u64 {
        self.usage.unflushed_bytes.load(Ordering::Relaxed)
    }
}

struct Appender {
    dir: PathBuf,
    file: File,
    written: Position,
    usage: Arc<Usage>,
    frontier: watch::Sender<Frontier>,
    syncer: Arc<Syncer>,
    _lock: File,
}

impl Appender {
    fn run(mut self, receiver: mpsc::Receiver<Exposure>, fsync_interval: Duration) {
        let syncer = Arc::clone(&self.syncer);
        let syncing = std::thread::Builder::new()
            .name("exposure-fsync".into())
            .spawn(move || syncer.run(fsync_interval))
            .expect("starting the spool's fsync thread");
        let mut buffer = Vec::with_capacity(WRITE_CHUNK);
        while let Ok(exposure) = receiver.recv() {
            encode(&exposure, &mut buffer);
            while buffer.len() < WRITE_CHUNK {
                match receiver.try_recv() {
                    Ok(exposure) => encode(&exposure, &mut buffer),
                    Err(_) => break,
                }
            }
            self.write(&buffer);
            buffer.clear();
            if self.written.offset >= SEGMENT_BYTES {
                let (dir, usage) = (self.dir.clone(), Arc::clone(&self.usage));
                retry(&dir, &usage, "starting a segment", || self.next_segment());
            }
            std::thread::sleep(GATHER);
        }
        self.syncer.stop.store(true, Ordering::Relaxed);
        let _ = syncing.join();
        retry(&self.dir, &self.usage, "syncing", || self.file.sync_data());
        self.frontier.send_replace(Frontier { written: self.written, finished: true });
    }

    fn write(&mut self, bytes: &[u8]) {
        retry(&self.dir, &self.usage, "writing", || self.file.write_all(bytes));
        let length = bytes.len() as u64;
        self.written.offset += length;
        self.usage.disk_bytes.fetch_add(length, Ordering::Relaxed);
        self.usage.unflushed_bytes.fetch_add(length, Ordering::Relaxed);
        self.syncer.written.fetch_add(length, Ordering::Release);
        self.frontier.send_replace(Frontier { written: self.written, finished: false });
    }

    /// Seals the current segment (synced) and continues in a new one.
    fn next_segment(&mut self) -> io::Result<()> {
        self.file.sync_data()?;
        let next = self.written.segment + 1;
        let file = create_segment(&self.dir, next)?;
        *self.syncer.current.lock().unwrap_or_else(PoisonError::into_inner) = file.try_clone()?;
        self.file = file;
        self.written = Position { segment: next, offset: 0 };
        self.frontier.send_replace(Frontier { written: self.written, finished: false });
        Ok(())
    }
}

/// Fsyncs the current segment on its own thread, so that the appender keeps handing
/// exposures to the kernel while a sync is in flight: a killed process then loses only
/// what was still in memory, not whatever arrived during a slow fsync.
struct Syncer {
    dir: PathBuf,
    usage: Arc<Usage>,
    /// A handle on the current segment (the appender swaps it when it starts a new one).
    current: std::sync::Mutex<File>,
    /// Bytes the appender has written, in total.
    written: AtomicU64,
    stop: AtomicBool,
}

impl Syncer {
    fn run(&self, interval: Duration) {
        let mut synced = 0;
        while !self.stop.load(Ordering::Relaxed) {
            std::thread::sleep(interval.max(Duration::from_millis(1)));
            let target = self.written.load(Ordering::Acquire);
            if target == synced {
                continue;
            }
            retry(&self.dir, &self.usage, "syncing", || self.current.lock().unwrap_or_else(PoisonError::into_inner).try_clone()?.sync_data());
            synced = target;
        }
    }
}

/// Repeats a failing disk operation (disk full, I/O error) until it succeeds; meanwhile
/// the spool counts as full, so new units are refused rather than silently dropped.
fn retry(dir: &Path, usage: &Usage, what: &str, mut operation: impl FnMut() -> io::Result<()>) {
    let mut pause = Duration::from_millis(10);
    while let Err(error) = operation() {
        if !usage.failing.swap(true, Ordering::Relaxed) {
            tracing::error!(%error, dir = %dir.display(), "ALERT exposure spool failed {what}; refusing new units until it recovers");
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_secs(1));
    }
    if usage.failing.swap(false, Ordering::Relaxed) {
        tracing::info!(dir = %dir.display(), "exposure spool recovered");
    }
}

/// The flusher's side: reads records in order, behind the appender.
pub struct SpoolReader {
    dir: PathBuf,
    position: Position,
    frontier: watch::Receiver<Frontier>,
    usage: Arc<Usage>,
}

impl SpoolReader {
    /// Waits for records after the last committed position and returns up to `max` of
    /// them, with the position after them to pass to `committed`. `None` once the appender
    /// has finished and everything is read.
    pub async fn next_batch(&mut self, max: usize) -> io::Result<Option<(Vec<Exposure>, Position)>> {
        loop {
            let frontier = *self.frontier.borrow_and_update();
            if self.position < frontier.written {
                // A sealed segment is read to its end, the active one up to the frontier.
                let limit = if self.position.segment == frontier.written.segment { frontier.written.offset } else { u64::MAX };
                let (path, position) = (segment_path(&self.dir, self.position.segment), self.position);
                let (batch, next) = tokio::task::spawn_blocking(move || read_records(&path, position, limit, max))
                    .await
                    .map_err(io::Error::other)??;
                if !batch.is_empty() {
                    return Ok(Some((batch, next)));
                }
                if self.position.segment == frontier.written.segment {
                    return Err(io::Error::other(format!("corrupt record in the active exposure segment at {position:?}")));
                }
                self.finish_segment(frontier.written.segment)?;
                continue;
            }
            if frontier.finished {
                // Everything is committed: nothing is owed any more.
                remove_owed_marker(&self.dir);
                return Ok(None);
            }
            if self.frontier.changed().await.is_err() {
                // The appender is gone without finishing (it panicked): read what it wrote.
                let written = self.frontier.borrow().written;
                if self.position >= written {
                    return Ok(None);
                }
            }
        }
    }

    /// The share of the spool's bound taken by exposures not yet in Postgres.
    pub fn backlog_share(&self) -> f64 {
        self.usage.backlog_share()
    }

    /// Records up to `position` are in Postgres.
    pub fn committed(&mut self, position: Position) {
        let flushed = position.offset - self.position.offset;
        self.usage.unflushed_bytes.fetch_sub(flushed, Ordering::Relaxed);
        self.position = position;
    }

    /// The current segment is read and committed to its end: delete it and move to the
    /// next one that exists.
    fn finish_segment(&mut self, active: u64) -> io::Result<()> {
        let path = segment_path(&self.dir, self.position.segment);
        let size = fs::metadata(&path)?.len();
        fs::remove_file(&path)?;
        self.usage.disk_bytes.fetch_sub(size, Ordering::Relaxed);
        self.usage.unflushed_bytes.fetch_sub(size - self.position.offset, Ordering::Relaxed);
        let next = segment_numbers(&self.dir)?.into_iter().find(|&n| n > self.position.segment).unwrap_or(active);
        self.position = Position { segment: next, offset: 0 };
        Ok(())
    }
}

fn segment_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{number:020}.seg"))
}

fn segment_numbers(dir: &Path) -> io::Result<Vec<u64>> {
    let mut numbers = Vec::new();
    let unreadable = |e| annotate(e, "reading the exposure spool directory", dir);
    for entry in fs::read_dir(dir).map_err(unreadable)? {
        let name = entry.map_err(unreadable)?.file_name();
        if let Some(number) = name.to_str().and_then(|n| n.strip_suffix(".seg")).and_then(|n| n.parse().ok()) {
            numbers.push(number);
        }
    }
    numbers.sort_unstable();
    Ok(numbers)
}

/// Whether `dir` exists and holds segments.
pub fn holds_segments(dir: &Path) -> io::Result<bool> {
    Ok(dir.is_dir() && !segment_numbers(dir)?.is_empty())
}

/// The file beside the spool directory that says exposures may be owed: `<dir>.owed`.
pub fn owed_marker(dir: &Path) -> PathBuf {
    let name = dir.file_name().map_or_else(|| "exposure-spool".into(), |name| name.to_string_lossy().into_owned());
    dir.with_file_name(format!("{name}.owed"))
}

/// Leaves the marker (synced, with its directory) before any exposure is taken. Without
/// it the gateway still runs, but a spool directory lost before the next start goes
/// unnoticed: that is logged.
fn write_owed_marker(dir: &Path) {
    let marker = owed_marker(dir);
    let text = format!(
        "The exposure spool {} holds exposures not yet in Postgres until a clean stop removes this file (written by pid {}).\n",
        dir.display(),
        std::process::id()
    );
    let written = File::create(&marker).and_then(|mut file| {
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        File::open(marker.parent().unwrap_or(Path::new("/")))?.sync_all()
    });
    if let Err(error) = written {
        tracing::warn!(%error, marker = %marker.display(), "cannot write the exposure spool's marker; a spool directory missing at the next start will not be noticed");
    }
}

fn remove_owed_marker(dir: &Path) {
    let marker = owed_marker(dir);
    match fs::remove_file(&marker) {
        Ok(()) => {
            let _ = File::open(marker.parent().unwrap_or(Path::new("/"))).and_then(|parent| parent.sync_all());
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => tracing::warn!(%error, marker = %marker.display(), "cannot remove the exposure spool's marker"),
    }
}

/// The error, with what was being done and to which path.
fn annotate(error: io::Error, doing: &str, path: &Path) -> io::Error {
    io::Error::new(error.kind(), format!("{doing} {}: {error}", path.display()))
}

/// Creates a segment and syncs the directory, so the file itself survives a crash.
fn create_segment(dir: &Path, number: u64) -> io::Result<File> {
    let file = OpenOptions::new().create_new(true).append(true).open(segment_path(dir, number))?;
    File::open(dir)?.sync_all()?;
    Ok(file)
}

/// Checks a segment of an earlier run and returns its size once checked. The newest
/// segment may end in a torn tail (a write the kill or crash interrupted), which is cut
/// after the last whole record. Anything else that does not read is an error naming the
/// file: an unreadable file, or damage a torn write cannot leave (in a sealed segment,
/// which was synced whole, or before whole records or with an impossible length).
fn recover_segment(path: &Path, newest: bool) -> io::Result<u64> {
    let bytes = fs::read(path).map_err(|e| annotate(e, "cannot read the exposure spool segment", path))?;
    let mut valid = 0;
    while let Some((_, length)) = decode(&bytes[valid..]) {
        valid += length;
    }
    if valid == bytes.len() {
        return Ok(valid as u64);
    }
    let tail = &bytes[valid..];
    if !(newest && is_torn(tail)) {
        let why = if newest { "not a torn write" } else { "a sealed segment, synced whole before the next began" };
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "the exposure spool segment {} is corrupt at byte {valid} of {} ({why}); the exposures after it cannot be read. \
                 Refusing to start rather than lose them: restore the file, or move it out of the spool directory to start without them",
                path.display(),
                bytes.len()
            ),
        ));
    }
    tracing::warn!(path = %path.display(), kept = valid, cut = tail.len(), "exposure spool: cut a torn tail");
    let file = OpenOptions::new().write(true).open(path).map_err(|e| annotate(e, "opening", path))?;
    file.set_len(valid as u64)?;
    file.sync_all()?;
    Ok(valid as u64)
}

/// What an interrupted append leaves after the last whole record: the start of a record
/// whose declared length runs past the end, or zeros (blocks a machine crash allocated
/// but never wrote).
fn is_torn(tail: &[u8]) -> bool {
    if tail.iter().all(|&b| b == 0) {
        return true;
    }
    match tail.get(0..4) {
        None => true,
        Some(length) => {
            let length = u32::from_le_bytes(length.try_into().unwrap()) as usize;
            length <= MAX_PAYLOAD && HEADER_BYTES + length > tail.len()
        }
    }
}

/// Reads whole records from `position` up to byte `limit` (at most `max` of them) and
/// returns them with the position after the last. Stops at the first incomplete or
/// corrupt record.
fn read_records(path: &Path, position: Position, limit: u64, max: usize) -> io::Result<(Vec<Exposure>, Position)> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(position.offset))?;
    let available = file.metadata()?.len().min(limit).saturating_sub(position.offset);
    let mut bytes = Vec::new();
    file.take(available).read_to_end(&mut bytes)?;
    let mut records = Vec::new();
    let mut used = 0;
    while records.len() < max {
        match decode(&bytes[used..]) {
            Some((exposure, length)) => {
                records.push(exposure);
                used += length;
            }
            None => break,
        }
    }
    Ok((records, Position { segment: position.segment, offset: position.offset + used as u64 }))
}

fn encode(exposure: &Exposure, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; HEADER_BYTES]);
    out.extend_from_slice(&exposure.at.timestamp_micros().to_le_bytes());
    for text in [&exposure.experiment_id, &exposure.user_id, &exposure.variant_id] {
        // Units are at most 256 characters (1 KiB) and ids 64 ASCII characters, checked
        // before they get here, so each fits a u16 length.
        out.extend_from_slice(&(text.len() as u16).to_le_bytes());
        out.extend_from_slice(text.as_bytes());
    }
    let payload = start + HEADER_BYTES;
    let length = (out.len() - payload) as u32;
    let checksum = crc32fast::hash(&out[payload..]);
    out[start..start + 4].copy_from_slice(&length.to_le_bytes());
    out[start + 4..payload].copy_from_slice(&checksum.to_le_bytes());
}

/// One record from the front of `bytes` and its length, or `None` if it is incomplete or
/// fails its checksum.
fn decode(bytes: &[u8]) -> Option<(Exposure, usize)> {
    let length = u32::from_le_bytes(bytes.get(0..4)?.try_into().ok()?) as usize;
    let checksum = u32::from_le_bytes(bytes.get(4..HEADER_BYTES)?.try_into().ok()?);
    let payload = bytes.get(HEADER_BYTES..HEADER_BYTES + length)?;
    if crc32fast::hash(payload) != checksum {
        return None;
    }
    let micros = i64::from_le_bytes(payload.get(0..8)?.try_into().ok()?);
    let mut rest = &payload[8..];
    let mut text = || -> Option<String> {
        let size = u16::from_le_bytes(rest.get(0..2)?.try_into().ok()?) as usize;
        let value = String::from_utf8(rest.get(2..2 + size)?.to_vec()).ok()?;
        rest = &rest[2 + size..];
        Some(value)
    };
    let (experiment_id, user_id, variant_id) = (text()?, text()?, text()?);
    let at = DateTime::from_timestamp_micros(micros)?;
    Some((Exposure { experiment_id, user_id, variant_id, at }, HEADER_BYTES + length))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exposure(user: &str) -> Exposure {
        Exposure { experiment_id: "exp".into(), user_id: user.into(), variant_id: "control".into(), at: DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap() }
    }

    #[test]
    fn records_round_trip_and_a_torn_or_corrupt_record_ends_the_read() {
        let mut bytes = Vec::new();
        encode(&exposure("ü-1"), &mut bytes);
        let first = bytes.len();
        encode(&exposure("u-2"), &mut bytes);
        let (decoded, length) = decode(&bytes).unwrap();
        assert_eq!((decoded.user_id.as_str(), decoded.at.timestamp_micros(), length), ("ü-1", 1_764_000_000_123_456, first));
        assert_eq!(decode(&bytes[first..]).unwrap().0.user_id, "u-2");
        assert!(decode(&bytes[first..bytes.len() - 1]).is_none(), "a record cut short");
        let mut corrupt = bytes.clone();
        corrupt[first + HEADER_BYTES + 9] ^= 1;
        assert!(decode(&corrupt[first..]).is_none(), "a flipped bit");
    }

    /// An empty scratch directory of this test process.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ab-spool-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// The records of units a, b and c.
    fn three_records() -> Vec<u8> {
        let mut bytes = Vec::new();
        for user in ["a", "b", "c"] {
            encode(&exposure(user), &mut bytes);
        }
        bytes
    }

    #[test]
    fn recovery_keeps_whole_records_and_cuts_the_torn_tail() {
        let dir = scratch("unit");
        let path = segment_path(&dir, 7);
        let mut bytes = three_records();
        let whole = bytes.len() as u64;
        encode(&exposure("torn"), &mut bytes);
        fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert_eq!(recover_segment(&path, true).unwrap(), whole);
        assert_eq!(fs::metadata(&path).unwrap().len(), whole);
        let (records, end) = read_records(&path, Position { segment: 7, offset: 0 }, u64::MAX, 2).unwrap();
        assert_eq!(records.iter().map(|r| r.user_id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        let (rest, _) = read_records(&path, end, u64::MAX, 10).unwrap();
        assert_eq!(rest.len(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn damage_that_is_not_a_torn_tail_refuses_naming_the_file() {
        let dir = scratch("damage");
        let path = segment_path(&dir, 3);
        let whole = three_records();
        let first = whole.len() / 3;
        let recover = |bytes: &[u8], newest: bool| {
            fs::write(&path, bytes).unwrap();
            recover_segment(&path, newest).map_err(|e| e.to_string())
        };
        // The newest segment: a torn record, or zeros a crash left, are cut.
        let mut zeros = whole.clone();
        zeros.extend_from_slice(&[0; 100]);
        assert_eq!(recover(&zeros, true).unwrap(), whole.len() as u64);
        assert_eq!(recover(&whole[..whole.len() - 5], true).unwrap(), 2 * first as u64);
        // A sealed segment was synced whole: even a torn tail there is damage.
        let error = recover(&whole[..whole.len() - 5], false).unwrap_err();
        assert!(error.contains(&path.display().to_string()) && error.contains("sealed"), "{error}");
        // A flipped bit before whole records, and an impossible length, are not torn writes.
        let mut flipped = whole.clone();
        flipped[HEADER_BYTES + 9] ^= 1;
        let error = recover(&flipped, true).unwrap_err();
        assert!(error.contains("corrupt at byte 0 of") && error.contains(&path.display().to_string()), "{error}");
        let mut impossible = whole.clone();
        impossible[first..first + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(recover(&impossible, true).unwrap_err().contains(&format!("corrupt at byte {first} of")));
        assert_eq!(fs::metadata(&path).unwrap().len(), whole.len() as u64, "a refused segment is left as it was");
        // A segment that cannot be read at all.
        fs::remove_file(&path).unwrap();
        fs::create_dir(&path).unwrap();
        assert!(recover_segment(&path, true).unwrap_err().to_string().contains(&path.display().to_string()));
        fs::remove_dir_all(&dir).unwrap();
    }
}
