//! One JSON-over-websocket RPC client for both protocols the reset speaks: the Chrome DevTools
//! Protocol (`{id, method, params, sessionId?}` answered by `{id, result}` or `{id, error}`) and
//! WebDriver BiDi (the same commands, answered by `{type: "success", id, result}` or
//! `{type: "error", id, error, message}`). Messages without an `id` are events, handed in order
//! to the connection's event handler on the reading task, so by the time a command's answer is
//! read every event the browser sent before it has been handled.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::ResetError;

/// What the reading task calls for every event (a message without an `id`), with a sender for
/// commands whose answers it does not wait for.
pub(super) type EventHandler = Box<dyn FnMut(&Value, &Notifier) + Send>;

/// Answers not read yet, by command id; `None` once the socket closed (no answer will come).
type Pending = Arc<Mutex<Option<HashMap<u64, oneshot::Sender<Result<Value, String>>>>>>;

/// A connection to one websocket endpoint; its tasks end when it is dropped.
#[derive(Debug)]
pub(super) struct RpcClient {
    /// What it is connected to, for error messages (`DevTools`, `BiDi`).
    what: &'static str,
    notifier: Notifier,
    pending: Pending,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
}

/// Sends commands on a connection without waiting for their answers; cheap to clone.
#[derive(Debug, Clone)]
pub(super) struct Notifier {
    next_id: Arc<AtomicU64>,
    outgoing: mpsc::UnboundedSender<String>,
}

impl Notifier {
    /// Queues `method` (on CDP session `session` when given) and returns its id.
    pub(super) fn send(&self, method: &str, params: Value, session: Option<&str>) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        // A closed connection fails the next awaited call, which says so.
        let _ = self.outgoing.send(message.to_string());
        id
    }
}

impl RpcClient {
    /// Connects to `url` (a `ws://` URL on loopback) by `deadline`; `on_event` handles every event.
    pub(super) async fn connect(
        what: &'static str,
        url: &str,
        deadline: Instant,
        mut on_event: EventHandler,
    ) -> Result<Self, ResetError> {
        let connect = tokio_tungstenite::connect_async_with_config(url, None, true);
        let (socket, _) = tokio::time::timeout_at(deadline, connect)
            .await
            .map_err(|_| ResetError(format!("connecting to the {what} socket {url} timed out")))?
            .map_err(|e| ResetError(format!("cannot connect to the {what} socket {url}: {e}")))?;
        let (mut sink, mut stream) = socket.split();
        let (outgoing, mut queue) = mpsc::unbounded_channel::<String>();
        let writer = tokio::spawn(async move {
            while let Some(text) = queue.recv().await {
                if sink.send(Message::text(text)).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        let notifier = Notifier {
            next_id: Arc::new(AtomicU64::new(1)),
            outgoing,
        };
        let pending: Pending = Arc::new(Mutex::new(Some(HashMap::new())));
        let reader = {
            let pending = Arc::clone(&pending);
            let notifier = notifier.clone();
            tokio::spawn(async move {
                while let Some(Ok(message)) = stream.next().await {
                    let Message::Text(text) = message else {
                        continue;
                    };
                    let Ok(value) = serde_json::from_str::<Value>(text.as_str()) else {
                        continue;
                    };
                    match value.get("id").and_then(Value::as_u64) {
                        Some(id) => {
                            let waiter = lock(&pending).as_mut().and_then(|p| p.remove(&id));
                            if let Some(waiter) = waiter {
                                let _ = waiter.send(answer(value));
                            }
                        }
                        None => on_event(&value, &notifier),
                    }
                }
                // Dropping the waiters fails every call still waiting, and later calls fail at
                // once: the socket closed.
                lock(&pending).take();
            })
        };
        Ok(Self {
            what,
            notifier,
            pending,
            reader,
            writer,
        })
    }

    /// Sends `method` (on CDP session `session` when given) and waits for its result by `deadline`.
    pub(super) async fn call(
        &self,
        method: &str,
        params: Value,
        session: Option<&str>,
        deadline: Instant,
    ) -> Result<Value, ResetError> {
        let (tx, rx) = oneshot::channel();
        // Registered before sending, under the same lock the reader takes: the answer cannot
        // arrive before its waiter exists.
        {
            let mut pending = lock(&self.pending);
            if let Some(pending) = pending.as_mut() {
                let id = self.notifier.send(method, params, session);
                pending.insert(id, tx);
            }
            // Else `tx` is dropped here, and the wait below fails at once.
        }
        match tokio::time::timeout_at(deadline, rx).await {
            Err(_) => Err(ResetError(format!(
                "{} {method}: no answer before the deadline",
                self.what
            ))),
            Ok(Err(_)) => Err(ResetError(format!(
                "{} {method}: the socket closed (did the browser exit?)",
                self.what
            ))),
            Ok(Ok(Err(message))) => Err(ResetError(format!(
                "{} {method} failed: {message}",
                self.what
            ))),
            Ok(Ok(Ok(result))) => Ok(result),
        }
    }
}

impl Drop for RpcClient {
    fn drop(&mut self) {
        self.reader.abort();
        self.writer.abort();
    }
}

/// A command's answer: its `result`, or the error text either protocol gives.
fn answer(mut value: Value) -> Result<Value, String> {
    let failed =
        value.get("type").and_then(Value::as_str) == Some("error") || value.get("error").is_some();
    if failed {
        // CDP: {"error": {"code", "message"}}; BiDi: {"error": "code", "message": "..."}.
        let error = &value["error"];
        let text = match (error.get("message"), value.get("message")) {
            (Some(message), _) => message.as_str().unwrap_or_default().to_owned(),
            (None, Some(message)) => format!(
                "{}: {}",
                error.as_str().unwrap_or("error"),
                message.as_str().unwrap_or_default()
            ),
            (None, None) => error.to_string(),
        };
        return Err(text);
    }
    Ok(value["result"].take())
}

/// Locks `mutex`. Nothing panics while holding it (an insert, a remove, a clear), so a poisoned
/// lock is a bug.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .expect("the pending-answers lock is never held across a panic")
}

/// `value[key]` as a string, or an error naming the `command` of `protocol` that returned it.
pub(super) fn string(
    value: &serde_json::Value,
    key: &str,
    protocol: &str,
    command: &str,
) -> Result<String, super::ResetError> {
    value[key].as_str().map(str::to_owned).ok_or_else(|| {
        super::ResetError(format!("{protocol} {command} returned no {key}: {value}"))
    })
}

#[cfg(test)]
mod tests {
    use super::answer;
    use serde_json::json;

    #[test]
    fn answers_of_both_protocols() {
        assert_eq!(
            answer(json!({"id": 1, "result": {"a": 1}})),
            Ok(json!({"a": 1}))
        );
        assert_eq!(
            answer(json!({"type": "success", "id": 1, "result": {}})),
            Ok(json!({}))
        );
        assert_eq!(
            answer(json!({"id": 1, "error": {"code": -32000, "message": "Not allowed"}})),
            Err("Not allowed".to_owned())
        );
        assert_eq!(
            answer(json!({"type": "error", "id": 1, "error": "no such frame", "message": "gone"})),
            Err("no such frame: gone".to_owned())
        );
    }
}
