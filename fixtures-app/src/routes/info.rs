//! `/health` and `/whoami`: JSON about this instance.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::state::AppState;

/// `GET /health`: `{"status":"ok","instance_id":...}`.
pub(super) async fn health(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "status": "ok", "instance_id": state.instance_id() }))
}

/// `GET /whoami`: the instance id, the pid and, when spawned, the grandchild's pid.
pub(super) async fn whoami(State(state): State<AppState>) -> Json<Value> {
    let mut body = json!({ "instance_id": state.instance_id(), "pid": std::process::id() });
    if let Some(pid) = state.grandchild_pid() {
        body["grandchild_pid"] = json!(pid);
    }
    Json(body)
}

#[cfg(test)]
mod tests {
    use axum::http::{StatusCode, header};
    use serde_json::json;

    use crate::AppState;
    use crate::routes::testing::{get, state};

    #[tokio::test]
    async fn health_is_ok() {
        let reply = get(&state(), "/health").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(
            reply
                .header(header::CONTENT_TYPE)
                .starts_with("application/json")
        );
        assert_eq!(
            reply.json(),
            json!({"status": "ok", "instance_id": "test-instance"})
        );
    }

    #[tokio::test]
    async fn whoami_names_the_instance_and_pid() {
        let reply = get(&state(), "/whoami").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            reply.json(),
            json!({"instance_id": "test-instance", "pid": std::process::id()})
        );
    }

    #[tokio::test]
    async fn whoami_names_the_grandchild() {
        let state = AppState::with_grandchild("g", Some(77));
        let reply = get(&state, "/whoami").await;
        assert_eq!(reply.json()["grandchild_pid"], 77);
    }
}
