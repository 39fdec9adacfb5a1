//! `/storage/...`: pages that write and read every kind of browser storage, for the tests of a
//! warm session's reset.
//!
//! - `/storage/write` sets cookies (one by `Set-Cookie`, HttpOnly, one by script), localStorage,
//!   sessionStorage, an IndexedDB record, a Cache Storage entry and a service worker
//!   (`/storage/sw.js`), then shows `written` in `#status`; `window.storageDone` resolves with the
//!   same text (or `failed: STORE: ERROR`), and in an iframe the page posts it to its parent.
//! - `/storage/read` shows what it finds as JSON in `#result` (`window.storageDone` resolves
//!   with that text, which in an iframe it also posts to its parent): every store is empty in a
//!   clean browser. In a cross-site iframe it reads that site's partitioned storage.
//! - `/storage/frame?src=URL` embeds `URL` in an iframe; `window.storageDone` resolves with what
//!   the frame posts.
//! - `/storage/link?to=URL` links to `URL` (`#link`).
//! - `/storage/redirect?to=URL` sets a cookie and redirects to `URL`.

use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::html::{escape, page};
use crate::state::AppState;

/// The script `/storage/write` runs.
const WRITE_SCRIPT: &str = r#"
var step = "cookie";
window.storageDone = (async function () {
  var origin = location.origin;
  document.cookie = "harness_js=" + encodeURIComponent(origin) + "; path=/; SameSite=Lax";
  step = "localStorage";
  localStorage.setItem("harness", origin);
  step = "sessionStorage";
  sessionStorage.setItem("harness", origin);
  step = "IndexedDB";
  await new Promise(function (resolve, reject) {
    var open = indexedDB.open("harness", 1);
    open.onupgradeneeded = function () { open.result.createObjectStore("items"); };
    open.onerror = function () { reject(open.error); };
    open.onsuccess = function () {
      var db = open.result;
      var tx = db.transaction("items", "readwrite");
      tx.objectStore("items").put({ origin: origin }, "record");
      tx.oncomplete = function () { db.close(); resolve(); };
      tx.onerror = function () { reject(tx.error); };
    };
  });
  step = "Cache Storage";
  var cache = await caches.open("harness");
  await cache.put("/storage/cached", new Response("written by " + origin));
  step = "service worker";
  await navigator.serviceWorker.register("/storage/sw.js", { scope: "/storage/" });
  await navigator.serviceWorker.ready;
  return "written";
})().catch(function (error) {
  return "failed: " + step + ": " + error;
}).then(function (outcome) {
  document.getElementById("status").textContent = outcome;
  if (window.parent !== window) {
    window.parent.postMessage({ harness: outcome, origin: location.origin }, "*");
  }
  return outcome;
});
"#;

/// The script `/storage/read` runs.
const READ_SCRIPT: &str = r#"
window.storageDone = (async function () {
  function entries(storage) {
    var out = {};
    for (var i = 0; i < storage.length; i++) {
      var key = storage.key(i);
      out[key] = storage.getItem(key);
    }
    return out;
  }
  var databases = await indexedDB.databases();
  var registrations = await navigator.serviceWorker.getRegistrations();
  return {
    origin: location.origin,
    requestCookies: document.getElementById("result").dataset.requestCookies,
    documentCookie: document.cookie,
    localStorage: entries(localStorage),
    sessionStorage: entries(sessionStorage),
    indexedDB: databases.map(function (d) { return d.name; }),
    caches: await caches.keys(),
    serviceWorkers: registrations.map(function (r) { return r.scope; })
  };
})().catch(function (error) {
  return { failed: String(error) };
}).then(function (found) {
  var text = JSON.stringify(found);
  document.getElementById("result").textContent = text;
  if (window.parent !== window) {
    window.parent.postMessage({ harness: text }, "*");
  }
  return text;
});
"#;

/// The service worker `/storage/write` registers: it takes control at once and does nothing.
const SERVICE_WORKER: &str = r#"self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });
"#;

/// The `/storage/...` routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/storage/write", get(write))
        .route("/storage/read", get(read))
        .route("/storage/sw.js", get(service_worker))
        .route("/storage/frame", get(frame))
        .route("/storage/link", get(link))
        .route("/storage/redirect", get(redirect))
}

/// `GET /storage/write`: writes every store (see the [module docs](self)).
async fn write() -> Response {
    let cookie = "harness_http=written; HttpOnly; SameSite=Lax; Path=/";
    let body = format!(
        "<h1>Storage: write</h1>\n<p id=\"status\">writing</p>\n<script>{WRITE_SCRIPT}</script>"
    );
    (
        [(header::SET_COOKIE, cookie)],
        page("Storage write - fixtures-app", &body),
    )
        .into_response()
}

/// `GET /storage/read`: reports every store as JSON, with the cookies this request carried.
async fn read(headers: HeaderMap) -> Response {
    let cookies = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let body = format!(
        "<h1>Storage: read</h1>\n<pre id=\"result\" data-request-cookies=\"{}\">reading</pre>\n<script>{READ_SCRIPT}</script>",
        escape(cookies)
    );
    page("Storage read - fixtures-app", &body).into_response()
}

/// `GET /storage/sw.js`: the service worker.
async fn service_worker() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript")], SERVICE_WORKER).into_response()
}

/// The query of `/storage/frame`.
#[derive(Debug, Deserialize)]
struct FrameQuery {
    src: Option<String>,
}

/// `GET /storage/frame?src=URL`: `URL` in an iframe; `window.storageDone` resolves with the
/// outcome the frame posts.
async fn frame(Query(query): Query<FrameQuery>) -> Response {
    let Some(src) = absolute(query.src.as_deref()) else {
        return bad_url("/storage/frame", "src");
    };
    let body = format!(
        "<h1>Storage: frame</h1>\n<p id=\"status\">waiting</p>\n<iframe id=\"frame\" src=\"{}\"></iframe>\n<script>\n\
         window.storageDone = new Promise(function (resolve) {{\n\
         window.addEventListener(\"message\", function (event) {{\n\
         if (event.data && event.data.harness) {{\n\
         document.getElementById(\"status\").textContent = event.data.harness;\n\
         resolve(event.data.harness);\n}}\n}});\n}});\n</script>",
        escape(src)
    );
    page("Storage frame - fixtures-app", &body).into_response()
}

/// The query of `/storage/link` and `/storage/redirect`.
#[derive(Debug, Deserialize)]
struct ToQuery {
    to: Option<String>,
}

/// `GET /storage/link?to=URL`: a link to `URL`.
async fn link(Query(query): Query<ToQuery>) -> Response {
    let Some(to) = absolute(query.to.as_deref()) else {
        return bad_url("/storage/link", "to");
    };
    let body = format!(
        "<h1>Storage: link</h1>\n<p><a id=\"link\" href=\"{}\">follow</a></p>",
        escape(to)
    );
    page("Storage link - fixtures-app", &body).into_response()
}

/// `GET /storage/redirect?to=URL`: sets the cookie `harness_redirect` and redirects to `URL`.
async fn redirect(Query(query): Query<ToQuery>) -> Response {
    let Some(to) = absolute(query.to.as_deref()) else {
        return bad_url("/storage/redirect", "to");
    };
    let cookie = "harness_redirect=written; SameSite=Lax; Path=/";
    ([(header::SET_COOKIE, cookie)], Redirect::to(to)).into_response()
}

/// `url` when it is an absolute http(s) URL.
fn absolute(url: Option<&str>) -> Option<&str> {
    url.filter(|u| {
        (u.starts_with("http://") || u.starts_with("https://")) && !u.contains(char::is_whitespace)
    })
}

/// 400: `path` needs `?param=URL`.
fn bad_url(path: &str, param: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        format!("{path} needs ?{param}=URL, an absolute http:// or https:// URL\n"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use axum::http::{Request, StatusCode, header};

    use crate::routes::testing::{get, send, state};

    #[tokio::test]
    async fn write_sets_a_cookie_and_writes_every_store() {
        let reply = get(&state(), "/storage/write").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(
            reply
                .header(header::SET_COOKIE)
                .starts_with("harness_http=written; HttpOnly")
        );
        for store in [
            "document.cookie",
            "localStorage.setItem",
            "sessionStorage.setItem",
            "indexedDB.open",
            "caches.open",
            "serviceWorker.register(\"/storage/sw.js\"",
            "postMessage",
        ] {
            assert!(reply.body.contains(store), "no {store}");
        }
        assert!(reply.body.contains(r#"<p id="status">writing</p>"#));
    }

    #[tokio::test]
    async fn read_echoes_the_request_cookies_escaped() {
        let request = Request::get("/storage/read")
            .header(header::COOKIE, "a=\"<b>\"")
            .body(axum::body::Body::empty())
            .unwrap();
        let reply = send(&state(), request).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(
            reply
                .body
                .contains(r#"data-request-cookies="a=&quot;&lt;b&gt;&quot;""#)
        );
        for store in [
            "indexedDB.databases",
            "caches.keys",
            "getRegistrations",
            "postMessage",
        ] {
            assert!(reply.body.contains(store), "no {store}");
        }
        let bare = get(&state(), "/storage/read").await;
        assert!(bare.body.contains(r#"data-request-cookies="""#));
    }

    #[tokio::test]
    async fn the_service_worker_is_javascript() {
        let reply = get(&state(), "/storage/sw.js").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.header(header::CONTENT_TYPE), "text/javascript");
        assert!(reply.body.contains("skipWaiting"));
    }

    #[tokio::test]
    async fn frame_link_and_redirect_point_at_their_url() {
        let to = "http%3A%2F%2F127.0.0.1%3A9%2Fstorage%2Fwrite%3Fa%3D1%26b%3D2";
        let frame = get(&state(), &format!("/storage/frame?src={to}")).await;
        assert_eq!(frame.status, StatusCode::OK);
        assert!(frame.body.contains(
            r#"<iframe id="frame" src="http://127.0.0.1:9/storage/write?a=1&amp;b=2"></iframe>"#
        ));
        let link = get(&state(), &format!("/storage/link?to={to}")).await;
        assert_eq!(link.status, StatusCode::OK);
        assert!(
            link.body
                .contains(r#"<a id="link" href="http://127.0.0.1:9/storage/write?a=1&amp;b=2">"#)
        );
        let redirect = get(&state(), &format!("/storage/redirect?to={to}")).await;
        assert_eq!(redirect.status, StatusCode::SEE_OTHER);
        assert_eq!(
            redirect.header(header::LOCATION),
            "http://127.0.0.1:9/storage/write?a=1&b=2"
        );
        assert!(
            redirect
                .header(header::SET_COOKIE)
                .starts_with("harness_redirect=written")
        );
    }

    #[tokio::test]
    async fn a_missing_or_relative_url_is_refused() {
        for path in [
            "/storage/frame",
            "/storage/frame?src=",
            "/storage/frame?src=/storage/write",
            "/storage/link?to=javascript%3Aalert(1)",
            "/storage/redirect",
        ] {
            let reply = get(&state(), path).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}");
            assert!(reply.body.contains("absolute http://"), "{path}");
        }
    }
}
