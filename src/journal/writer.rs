//! Group commit for bulk steps: many concurrent tasks hand their entries to one writer thread,
//! which appends everything waiting with one lock, one write and one fsync, then tells each
//! task its entries are durable. A task must not act (say, delete sessions) before its evidence
//! is durable, so it awaits the answer; batching keeps that wait at one fsync per batch instead
//! of one per identity.

use std::sync::mpsc;

use tokio::sync::oneshot;

use super::{Entry, Journal};
use crate::error::{AppError, Result};

type Job = (Vec<Entry>, oneshot::Sender<Result<Vec<u64>>>);

/// A handle to the writer thread; cheap to clone.
#[derive(Clone)]
pub struct JournalWriter {
    tx: mpsc::Sender<Job>,
}

impl JournalWriter {
    /// Starts the writer thread; it ends when the last handle is dropped.
    pub fn spawn(journal: Journal) -> JournalWriter {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("journal-writer".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut jobs = vec![first];
                    while let Ok(more) = rx.try_recv() {
                        jobs.push(more);
                    }
                    let mut all: Vec<Entry> = Vec::new();
                    let mut replies = Vec::with_capacity(jobs.len());
                    for (entries, reply) in jobs {
                        replies.push((entries.len(), reply));
                        all.extend(entries);
                    }
                    match journal.append(all) {
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
            })
            .map(|_| ())
            .unwrap_or_else(|e| eprintln!("atoctl: cannot start the journal writer: {e}"));
        JournalWriter { tx }
    }

    /// Appends entries and waits until they are on disk.
    pub async fn append(&self, entries: Vec<Entry>) -> Result<Vec<u64>> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((entries, reply))
            .map_err(|_| AppError::failed("the journal writer has stopped"))?;
        answer
            .await
            .map_err(|_| AppError::failed("the journal writer has stopped"))?
    }
}
