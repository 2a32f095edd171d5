//! Waiting for snapshots: one poller serves every image saving at once. With a few images it
//! polls each (`GET /images/{id}`); with many, one `GET /images/detail?status=SAVING` per round
//! tells which are still saving (and their progress), and only those that left SAVING are read
//! one by one. Polling holds a parallelism slot only for the duration of each request.

use super::{Event, Reporter};
use crate::provider::{Client, Image, ImageQuery};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc, oneshot};

struct Watch {
    id: String,
    address: crate::addr::InstanceAddr,
    client: Client,
    last_progress: Option<u32>,
    done: oneshot::Sender<Result<Image, String>>,
}

/// Handle to the poller; cheap to clone. The poller stops when every handle is dropped.
#[derive(Clone)]
pub struct Watcher {
    tx: mpsc::UnboundedSender<Watch>,
}

impl Watcher {
    /// Starts the poller. `batch_from`: from this many images saving on one endpoint, poll with
    /// one listing instead of one GET per image.
    pub fn start(
        sem: Arc<Semaphore>,
        reporter: Arc<dyn Reporter>,
        poll: Duration,
        batch_from: usize,
    ) -> Watcher {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(rx, sem, reporter, poll, batch_from.max(1)));
        Watcher { tx }
    }

    /// Resolves when the image has left SAVING (any final status), with its last view.
    pub async fn wait(
        &self,
        client: &Client,
        address: &crate::addr::InstanceAddr,
        id: &str,
    ) -> Result<Image, String> {
        let (done, rx) = oneshot::channel();
        self.tx
            .send(Watch {
                id: id.to_string(),
                address: address.clone(),
                client: client.clone(),
                last_progress: None,
                done,
            })
            .map_err(|_| "the snapshot poller stopped".to_string())?;
        rx.await
            .map_err(|_| "the snapshot poller stopped".to_string())?
    }
}

fn still_saving(status: &str) -> bool {
    matches!(status, "SAVING" | "QUEUED")
}

async fn run(
    mut rx: mpsc::UnboundedReceiver<Watch>,
    sem: Arc<Semaphore>,
    reporter: Arc<dyn Reporter>,
    poll: Duration,
    batch_from: usize,
) {
    let mut watches: Vec<Watch> = Vec::new();
    loop {
        if watches.is_empty() {
            match rx.recv().await {
                Some(w) => watches.push(w),
                None => return,
            }
        }
        while let Ok(w) = rx.try_recv() {
            watches.push(w);
        }
        watches.retain(|w| !w.done.is_closed());
        // Group by endpoint: one listing serves every image of that endpoint.
        let mut groups: BTreeMap<String, Vec<Watch>> = BTreeMap::new();
        for w in watches.drain(..) {
            groups.entry(w.client.compute_url()).or_default().push(w);
        }
        for (_, group) in groups {
            let saving: Option<BTreeMap<String, u32>> = if group.len() >= batch_from {
                let client = group[0].client.clone();
                let q = ImageQuery {
                    status: Some("SAVING".into()),
                    ..ImageQuery::default()
                };
                let listed = {
                    let _p = sem.acquire().await;
                    client.list_images(&q).await
                };
                // A failed listing falls back to one GET per image this round.
                listed
                    .ok()
                    .map(|l| l.into_iter().map(|i| (i.id, i.progress)).collect())
            } else {
                None
            };
            // Images not known to be saving are read one by one, concurrently.
            let mut reads = tokio::task::JoinSet::new();
            for mut w in group {
                if let Some(s) = &saving
                    && let Some(p) = s.get(&w.id)
                {
                    progress(&reporter, &mut w, *p);
                    watches.push(w);
                    continue;
                }
                let sem = sem.clone();
                reads.spawn(async move {
                    let got = {
                        let _p = sem.acquire().await;
                        w.client.get_image(&w.id).await
                    };
                    (w, got)
                });
            }
            while let Some(joined) = reads.join_next().await {
                let Ok((mut w, got)) = joined else { continue };
                match got {
                    Ok(Some(img)) if still_saving(&img.status) => {
                        progress(&reporter, &mut w, img.progress);
                        watches.push(w);
                    }
                    Ok(Some(img)) => {
                        progress(&reporter, &mut w, img.progress);
                        let _ = w.done.send(Ok(img));
                    }
                    Ok(None) => {
                        let _ = w
                            .done
                            .send(Err(format!("image {} disappeared while saving", w.id)));
                    }
                    Err(e) => {
                        let _ = w.done.send(Err(e.to_string()));
                    }
                }
            }
        }
        if !watches.is_empty() {
            tokio::time::sleep(poll).await;
        }
    }
}

fn progress(reporter: &Arc<dyn Reporter>, w: &mut Watch, p: u32) {
    if w.last_progress != Some(p) {
        w.last_progress = Some(p);
        reporter.report(Event::Progress {
            address: w.address.clone(),
            percent: p,
        });
    }
}

impl crate::resources::Waiter for Watcher {
    fn wait<'a>(
        &'a self,
        client: &'a Client,
        address: &'a crate::addr::InstanceAddr,
        id: &'a str,
    ) -> crate::resources::BoxFut<'a, Result<Image, String>> {
        Box::pin(Watcher::wait(self, client, address, id))
    }
}
