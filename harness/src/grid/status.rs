//! What a Grid 4 says of its nodes: `GET /status`.

use std::time::Duration;

use serde_json::Value;
use url::Url;

/// One node a Grid lists, as its `/status` says.
///
/// ```
/// let node = harness::grid::NodeStatus {
///     id: "8023cec1-d16b-4dbc-9c17-e52e97f5b046".into(),
///     uri: "http://198.18.3.2:5555".into(),
///     availability: "UP".into(),
///     browsers: vec!["chrome".into()],
/// };
/// assert!(node.is_up());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeStatus {
    /// The node's id in the Grid.
    pub id: String,
    /// The URI the node registered with.
    pub uri: String,
    /// `UP`, `DOWN` or `DRAINING`.
    pub availability: String,
    /// The `browserName` of each slot's stereotype, once each.
    pub browsers: Vec<String>,
}

impl NodeStatus {
    /// Whether the Grid hands the node new sessions.
    pub fn is_up(&self) -> bool {
        self.availability == "UP"
    }
}

/// The nodes in a `/status` answer; `None` when it is not a Grid 4 answer (no `value.nodes`).
pub(crate) fn parse(status: &Value) -> Option<Vec<NodeStatus>> {
    let nodes = status.get("value")?.get("nodes")?.as_array()?;
    Some(
        nodes
            .iter()
            .map(|node| {
                let mut browsers: Vec<String> = node["slots"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|slot| slot["stereotype"]["browserName"].as_str())
                    .map(str::to_owned)
                    .collect();
                browsers.dedup();
                NodeStatus {
                    id: node["id"].as_str().unwrap_or_default().to_owned(),
                    uri: node["uri"].as_str().unwrap_or_default().to_owned(),
                    availability: node["availability"].as_str().unwrap_or_default().to_owned(),
                    browsers,
                }
            })
            .collect(),
    )
}

/// A client for a Grid's own endpoints: straight to it (no proxy), each answer within `limit`.
fn client(limit: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(limit)
        .build()
        .map_err(|e| e.to_string())
}

/// Asks the Grid at `url` for its nodes, waiting at most `limit`.
pub(crate) async fn nodes(url: &Url, limit: Duration) -> Result<Vec<NodeStatus>, String> {
    let status = url.join("status").map_err(|e| e.to_string())?;
    let http = client(limit)?;
    let answer = http
        .get(status.clone())
        .send()
        .await
        .map_err(|e| format!("GET {status}: {e}"))?;
    let body: Value = answer
        .json()
        .await
        .map_err(|e| format!("GET {status}: not JSON: {e}"))?;
    parse(&body).ok_or_else(|| format!("GET {status}: not a Selenium Grid 4 status: {body}"))
}

/// Asks the Grid at `url` for its nodes until `done` holds of them, `gone` says the process
/// behind them exited, or `deadline` passes; no request outlives the deadline. `Err`: what the
/// Grid said last, for the error.
pub(crate) async fn wait_for(
    url: &Url,
    deadline: tokio::time::Instant,
    gone: impl Fn() -> bool,
    done: impl Fn(&[NodeStatus]) -> bool,
) -> Result<(), String> {
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let seen = match nodes(url, left.min(super::STATUS_LIMIT)).await {
            Ok(nodes) if done(&nodes) => return Ok(()),
            Ok(nodes) => format!("the Grid lists {nodes:?}"),
            Err(e) => e,
        };
        if gone() {
            return Err(format!("{seen}; its process exited"));
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(seen);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Asks the hub at `url` to forget node `id` at once: no new session goes to it. Grid 4 takes
/// an empty registration secret when none was configured.
pub(crate) async fn remove(url: &Url, id: &str, limit: Duration) -> Result<(), String> {
    let node = url
        .join(&format!("se/grid/distributor/node/{id}"))
        .map_err(|e| e.to_string())?;
    let http = client(limit)?;
    let answer = http
        .delete(node.clone())
        .header("X-REGISTRATION-SECRET", "")
        .send()
        .await
        .map_err(|e| format!("DELETE {node}: {e}"))?;
    if answer.status().is_success() {
        Ok(())
    } else {
        Err(format!("DELETE {node}: HTTP {}", answer.status()))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_the_nodes_of_a_grid_4_status() {
        // The shape of Grid 4.20's answer, trimmed.
        let status = json!({"value": {"ready": true, "message": "Selenium Grid ready.", "nodes": [
            {"id": "n1", "uri": "http://198.18.3.2:5555", "availability": "UP", "slots": [
                {"stereotype": {"browserName": "chrome", "platformName": "linux"}},
                {"stereotype": {"browserName": "chrome", "platformName": "linux"}}]},
            {"uri": "http://198.18.3.3:5555", "availability": "DOWN", "slots": [
                {"stereotype": {"browserName": "firefox"}}]}]}});
        let nodes = parse(&status).unwrap();
        assert_eq!(nodes.len(), 2);
        assert_eq!(nodes[0].browsers, ["chrome"]);
        assert_eq!(nodes[0].id, "n1");
        assert!(nodes[0].is_up());
        assert!(!nodes[1].is_up());
        assert_eq!(parse(&json!({"value": {"ready": true}})), None);
    }
}
