//! Group commit for bulk steps: many concurrent tasks hand their entries to one writer task,
//! which appends everything waiting with one lock, one write and one fsync, then tells each
//! task its entries are durable. A task must not act (say, delete sessions) before its evidence
//! is durable, so it awaits the answer; batching keeps that wait at one fsync per batch instead
//! of one per identity.
//!
//! The writer is a task on atoctl's own (single-threaded) runtime: entries reach it and answers
//! leave it without crossing threads; only the write and fsync of a whole batch go to a
//! blocking thread, so the loop keeps serving requests meanwhile. (A writer thread answering
//! every entry across threads cost more CPU than the requests themselves.)

use tokio::sync::{mpsc, oneshot};

use super::{Entry, Journal};
use crate::error::{AppError, Result};

type Job = (Vec<Entry>, oneshot::Sender<Result<Vec<u64>>>);

/// A handle to the writer; cheap to clone.
#[derive(Clone)]
pub struct JournalWriter {
    tx: mpsc::UnboundedSender<Job>,
}

impl JournalWriter {
    /// Starts the writer as a task on the current runtime (every step runs on one); it ends
    /// when the last handle is dropped.
    pub fn spawn(journal: Journal) -> JournalWriter {
        let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                // Let every task that is ready add its entries to this batch.
                tokio::task::yield_now().await;
                let mut jobs = vec![first];
                while let Ok(more) = rx.try_recv() {
                    jobs.push(more);
                }
                let (entries, replies) = split(jobs);
                let j = journal.clone();
                let written = tokio::task::spawn_blocking(move || j.append(entries))
                    .await
                    .unwrap_or_else(|e| {
                        Err(AppError::failed(format!("the journal writer failed: {e}")))
                    });
                answer(written, replies);
            }
        });
        JournalWriter { tx }
    }

    /// Appends entries and waits until they are on disk.
    pub async fn append(&self, entries: Vec<Entry>) -> Result<Vec<u64>> {
        self.submit(entries).wait().await
    }

    /// Hands entries to the writer without waiting: for a record that nothing afterwards
    /// depends on (the last entry of one identity in a bulk run). Its durability must still
    /// be awaited, later, with [`Pending::wait`].
    pub fn submit(&self, entries: Vec<Entry>) -> Pending {
        let (reply, answer) = oneshot::channel();
        match self.tx.send((entries, reply)) {
            Ok(()) => Pending(Some(answer)),
            Err(_) => Pending(None),
        }
    }
}

/// Entries handed to the writer, not yet known to be on disk.
pub struct Pending(Option<oneshot::Receiver<Result<Vec<u64>>>>);

impl Pending {
    pub async fn wait(self) -> Result<Vec<u64>> {
        let stopped = || AppError::failed("the journal writer has stopped");
        match self.0 {
            Some(answer) => answer.await.map_err(|_| stopped())?,
            None => Err(stopped()),
        }
    }
}

type Reply = (usize, oneshot::Sender<Result<Vec<u64>>>);

/// All the jobs' entries in order, and whom to answer for how many of them.
fn split(jobs: Vec<Job>) -> (Vec<Entry>, Vec<Reply>) {
    let mut all: Vec<Entry> = Vec::new();
    let mut replies = Vec::with_capacity(jobs.len());
    for (entries, reply) in jobs {
        replies.push((entries.len(), reply));
        all.extend(entries);
    }
    (all, replies)
}

/// Tells each job its seqs, or the error.
fn answer(written: Result<Vec<u64>>, replies: Vec<Reply>) {
    match written {
        Ok(seqs) => {
            let mut at = 0;
            for (n, reply) in replies {
                let _ = reply.send(Ok(seqs[at..at + n].to_vec()));
                at += n;
            }
        }
        Err(e) => {
            for (_, reply) in replies {
                let _ = reply.send(Err(AppError::new(e.exit, e.message.clone())));
            }
        }
    }
}
