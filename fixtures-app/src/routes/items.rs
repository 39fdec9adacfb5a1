//! `/api/items`: a JSON CRUD API over an in-memory store.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::state::{AppState, Item};

/// The body of a create or update.
#[derive(Debug, Deserialize)]
pub(super) struct ItemInput {
    name: String,
}

/// `GET /api/items`: every item, by id.
pub(super) async fn list(State(state): State<AppState>) -> Json<Vec<Item>> {
    Json(state.items().list())
}

/// `POST /api/items`: 201 with the new item.
pub(super) async fn create(
    State(state): State<AppState>,
    Json(input): Json<ItemInput>,
) -> (StatusCode, Json<Item>) {
    (StatusCode::CREATED, Json(state.items().create(input.name)))
}

/// `GET /api/items/{id}`.
pub(super) async fn read(State(state): State<AppState>, Path(id): Path<u64>) -> Response {
    found(id, state.items().get(id))
}

/// `PUT /api/items/{id}`: renames the item.
pub(super) async fn update(
    State(state): State<AppState>,
    Path(id): Path<u64>,
    Json(input): Json<ItemInput>,
) -> Response {
    found(id, state.items().update(id, input.name))
}

/// `DELETE /api/items/{id}`: 204, or 404 when there is no such item.
pub(super) async fn delete(State(state): State<AppState>, Path(id): Path<u64>) -> Response {
    match state.items().delete(id) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => not_found(id),
    }
}

/// The item as JSON, or a 404.
fn found(id: u64, item: Option<Item>) -> Response {
    match item {
        Some(item) => Json(item).into_response(),
        None => not_found(id),
    }
}

/// A JSON 404 naming the id.
fn not_found(id: u64) -> Response {
    let body = Json(json!({ "error": format!("no item with id {id}") }));
    (StatusCode::NOT_FOUND, body).into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use serde_json::json;

    use crate::routes::testing::{get, send, state, with_body};

    const JSON: &str = "application/json";

    #[tokio::test]
    async fn crud_round_trip() {
        let state = state();
        assert_eq!(get(&state, "/api/items").await.json(), json!([]));

        let created = with_body(&state, "POST", "/api/items", JSON, r#"{"name":"apple"}"#).await;
        assert_eq!(created.status, StatusCode::CREATED);
        assert_eq!(created.json(), json!({"id": 1, "name": "apple"}));
        with_body(&state, "POST", "/api/items", JSON, r#"{"name":"pear"}"#).await;

        assert_eq!(
            get(&state, "/api/items").await.json(),
            json!([{"id": 1, "name": "apple"}, {"id": 2, "name": "pear"}])
        );
        assert_eq!(
            get(&state, "/api/items/2").await.json(),
            json!({"id": 2, "name": "pear"})
        );

        let updated = with_body(&state, "PUT", "/api/items/1", JSON, r#"{"name":"fig"}"#).await;
        assert_eq!(updated.status, StatusCode::OK);
        assert_eq!(updated.json(), json!({"id": 1, "name": "fig"}));

        let delete = Request::delete("/api/items/1").body(Body::empty()).unwrap();
        assert_eq!(send(&state, delete).await.status, StatusCode::NO_CONTENT);
        assert_eq!(
            get(&state, "/api/items").await.json(),
            json!([{"id": 2, "name": "pear"}])
        );
    }

    #[tokio::test]
    async fn missing_items_are_404() {
        let state = state();
        let reply = get(&state, "/api/items/9").await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert_eq!(reply.json(), json!({"error": "no item with id 9"}));
        let put = with_body(&state, "PUT", "/api/items/9", JSON, r#"{"name":"x"}"#).await;
        assert_eq!(put.status, StatusCode::NOT_FOUND);
        let delete = Request::delete("/api/items/9").body(Body::empty()).unwrap();
        assert_eq!(send(&state, delete).await.status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn bad_input_is_a_client_error() {
        let state = state();
        assert_eq!(
            get(&state, "/api/items/abc").await.status,
            StatusCode::BAD_REQUEST
        );
        let reply = with_body(&state, "POST", "/api/items", JSON, "{").await;
        assert!(reply.status.is_client_error());
        let reply = with_body(&state, "POST", "/api/items", JSON, r#"{"nom":"x"}"#).await;
        assert!(reply.status.is_client_error());
    }
}
