//! `/login`, `/account` and `/logout`: a cookie session kept in memory.
//!
//! Any non-empty user name signs in with the password [`PASSWORD`].

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::html::{escape, page};
use crate::ids::random_id;
use crate::state::AppState;

/// The password that signs any user name in.
pub(crate) const PASSWORD: &str = "hunter2";

/// The session cookie's name.
const COOKIE: &str = "session";

/// What `/login` posts.
#[derive(Debug, Deserialize)]
pub(super) struct Credentials {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// `GET /login`: the sign-in form.
pub(super) async fn show() -> Html<String> {
    login_page(None)
}

/// `POST /login`: starts a session and redirects to `/account`, or answers 401.
pub(super) async fn submit(
    State(state): State<AppState>,
    Form(credentials): Form<Credentials>,
) -> Response {
    if credentials.username.trim().is_empty() || credentials.password != PASSWORD {
        let page = login_page(Some("Wrong user name or password."));
        return (StatusCode::UNAUTHORIZED, page).into_response();
    }
    let id = random_id();
    tracing::info!(user = %credentials.username, "signed in");
    state.sessions().insert(id.clone(), credentials.username);
    let cookie = format!("{COOKIE}={id}; HttpOnly; SameSite=Lax; Path=/");
    ([(header::SET_COOKIE, cookie)], Redirect::to("/account")).into_response()
}

/// `GET /account`: who is signed in, or a redirect to `/login`.
pub(super) async fn account(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let user = session_id(&headers).and_then(|id| state.sessions().get(&id).cloned());
    let Some(user) = user else {
        return Redirect::to("/login").into_response();
    };
    page(
        "Account - fixtures-app",
        &format!(
            "<h1>Account</h1>\n<p id=\"user\">Signed in as {}</p>\n\
             <form method=\"post\" action=\"/logout\"><button type=\"submit\" id=\"logout\">Sign out</button></form>",
            escape(&user)
        ),
    )
    .into_response()
}

/// `GET` or `POST /logout`: ends the session, clears the cookie, redirects to `/login`.
pub(super) async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(id) = session_id(&headers) {
        state.sessions().remove(&id);
    }
    let cookie = format!("{COOKIE}=; Max-Age=0; HttpOnly; SameSite=Lax; Path=/");
    ([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response()
}

/// The sign-in page, with an error paragraph when a attempt failed.
fn login_page(error: Option<&str>) -> Html<String> {
    let error = error
        .map(|e| format!("<p id=\"error\">{}</p>\n", escape(e)))
        .unwrap_or_default();
    page(
        "Sign in - fixtures-app",
        &format!(
            r#"<h1>Sign in</h1>
{error}<form method="post" action="/login">
<p><label for="username">User name</label> <input type="text" id="username" name="username" autocomplete="username"></p>
<p><label for="password">Password</label> <input type="password" id="password" name="password" autocomplete="current-password"></p>
<p><button type="submit" id="login">Sign in</button></p>
</form>"#
        ),
    )
}

/// The value of the session cookie, from any `Cookie` header.
fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{HeaderMap, Request, StatusCode, header};

    use super::session_id;
    use crate::AppState;
    use crate::routes::testing::{Reply, get, send, state, with_body};

    const FORM_TYPE: &str = "application/x-www-form-urlencoded";

    async fn sign_in(state: &AppState, form: &str) -> Reply {
        with_body(state, "POST", "/login", FORM_TYPE, form.to_owned()).await
    }

    async fn get_with_cookie(state: &AppState, path: &str, cookie: &str) -> Reply {
        let request = Request::get(path)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap();
        send(state, request).await
    }

    /// The `name=value` part of a `Set-Cookie` header.
    fn cookie_pair(reply: &Reply) -> String {
        let set = reply.header(header::SET_COOKIE);
        set.split(';').next().unwrap().to_owned()
    }

    #[tokio::test]
    async fn shows_the_form() {
        let reply = get(&state(), "/login").await;
        assert_eq!(reply.status, StatusCode::OK);
        for needle in [
            r#"id="username" name="username""#,
            r#"id="password" name="password""#,
            r#"id="login""#,
        ] {
            assert!(reply.body.contains(needle), "no {needle}");
        }
        assert!(!reply.body.contains(r#"id="error""#));
    }

    #[tokio::test]
    async fn signs_in_and_out() {
        let state = state();
        let reply = sign_in(&state, "username=%3Cb%3Eada&password=hunter2").await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
        assert_eq!(reply.header(header::LOCATION), "/account");
        let set = reply.header(header::SET_COOKIE);
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(set.contains(attribute), "{set} lacks {attribute}");
        }
        let cookie = cookie_pair(&reply);
        assert!(cookie.starts_with("session=") && cookie.len() > "session=".len());

        let account = get_with_cookie(&state, "/account", &cookie).await;
        assert_eq!(account.status, StatusCode::OK);
        assert!(
            account
                .body
                .contains(r#"<p id="user">Signed in as &lt;b&gt;ada</p>"#)
        );

        let logout = get_with_cookie(&state, "/logout", &cookie).await;
        assert_eq!(logout.status, StatusCode::SEE_OTHER);
        assert_eq!(logout.header(header::LOCATION), "/login");
        assert!(logout.header(header::SET_COOKIE).contains("Max-Age=0"));

        let after = get_with_cookie(&state, "/account", &cookie).await;
        assert_eq!(after.status, StatusCode::SEE_OTHER);
        assert_eq!(after.header(header::LOCATION), "/login");
    }

    #[tokio::test]
    async fn logout_accepts_post() {
        let state = state();
        let cookie = cookie_pair(&sign_in(&state, "username=ada&password=hunter2").await);
        let request = Request::post("/logout")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(&state, request).await.status, StatusCode::SEE_OTHER);
        assert!(state.sessions().is_empty());
    }

    #[tokio::test]
    async fn rejects_wrong_credentials() {
        let state = state();
        for form in [
            "username=ada&password=wrong",
            "username=&password=hunter2",
            "username=ada",
        ] {
            let reply = sign_in(&state, form).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{form}");
            assert!(reply.body.contains(r#"<p id="error">"#), "{form}");
            assert!(!reply.headers.contains_key(header::SET_COOKIE), "{form}");
        }
        assert!(state.sessions().is_empty());
    }

    #[tokio::test]
    async fn account_without_session_redirects() {
        let state = state();
        let reply = get(&state, "/account").await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
        assert_eq!(reply.header(header::LOCATION), "/login");
        let forged = get_with_cookie(&state, "/account", "session=forged").await;
        assert_eq!(forged.status, StatusCode::SEE_OTHER);
    }

    #[test]
    fn finds_the_session_among_cookies() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, "theme=dark; session=abc".parse().unwrap());
        assert_eq!(session_id(&headers).as_deref(), Some("abc"));
        headers.clear();
        headers.append(header::COOKIE, "sessionx=1".parse().unwrap());
        assert_eq!(session_id(&headers), None);
    }
}
