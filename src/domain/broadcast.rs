//! broadcast: "what state is a broadcast job in, and how far has it got?"
//! Plain values shared by the broadcast store, its delivery loop and the
//! replies that report on it.

/// A job's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobStatus {
    /// Created by an admin (or the automatic mode), waiting for 确认发送.
    PendingConfirmation,
    /// Confirmed: recipients fixed, waiting for the delivery loop.
    Confirmed,
    /// A delivery loop is (or was, before a restart) delivering it.
    Running,
    /// Every recipient has an outcome.
    Done,
    /// Cancelled; deliveries not yet sent were skipped.
    Cancelled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::PendingConfirmation => "pending_confirmation",
            JobStatus::Confirmed => "confirmed",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<JobStatus> {
        Some(match text {
            "pending_confirmation" => JobStatus::PendingConfirmation,
            "confirmed" => JobStatus::Confirmed,
            "running" => JobStatus::Running,
            "done" => JobStatus::Done,
            "cancelled" => JobStatus::Cancelled,
            _ => return None,
        })
    }
}

/// Counts of a job's deliveries: what /broadcast status shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JobCounts {
    pub sent: u64,
    pub failed: u64,
    /// Not yet sent: pending, or in flight under `give_up` (`sending`).
    pub pending: u64,
    /// Not sent on purpose: job cancelled, or the chat migrated to a chat
    /// that was a recipient already.
    pub skipped: u64,
}

impl JobCounts {
    pub fn total(&self) -> u64 {
        self.sent + self.failed + self.pending + self.skipped
    }
}

/// A job with its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobReport {
    pub id: i64,
    pub year: u16,
    pub status: JobStatus,
    pub counts: JobCounts,
}
