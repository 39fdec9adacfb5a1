//! `/form`: a form whose submission comes back escaped, for typing and XSS tests.

use axum::Form;
use axum::response::Html;
use serde::Deserialize;

use crate::html::{escape, page};

/// The form, shared by the empty page and the echo page.
const FORM: &str = r#"<form method="post" action="/form">
<p><label for="name">Name</label> <input type="text" id="name" name="name"></p>
<p><label for="message">Message</label> <textarea id="message" name="message"></textarea></p>
<p><button type="submit" id="submit">Send</button></p>
</form>"#;

/// What `/form` posts.
#[derive(Debug, Deserialize)]
pub(super) struct Submission {
    #[serde(default)]
    name: String,
    #[serde(default)]
    message: String,
}

/// `GET /form`: the empty form.
pub(super) async fn show() -> Html<String> {
    page("Form - fixtures-app", &format!("<h1>Form</h1>\n{FORM}"))
}

/// `POST /form`: the submitted values, escaped, above a fresh form.
pub(super) async fn submit(Form(submission): Form<Submission>) -> Html<String> {
    page(
        "Form - fixtures-app",
        &format!(
            "<h1>Form</h1>\n<p>Name: <span id=\"echo-name\">{}</span></p>\n\
             <p>Message: <span id=\"echo-message\">{}</span></p>\n{FORM}",
            escape(&submission.name),
            escape(&submission.message)
        ),
    )
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use crate::routes::testing::{get, state, with_body};

    const FORM_TYPE: &str = "application/x-www-form-urlencoded";

    #[tokio::test]
    async fn shows_the_form() {
        let reply = get(&state(), "/form").await;
        assert_eq!(reply.status, StatusCode::OK);
        for needle in [
            r#"<form method="post" action="/form">"#,
            r#"id="name" name="name""#,
            r#"id="message" name="message""#,
            r#"id="submit""#,
        ] {
            assert!(reply.body.contains(needle), "no {needle}");
        }
    }

    #[tokio::test]
    async fn echoes_the_values() {
        let reply = with_body(
            &state(),
            "POST",
            "/form",
            FORM_TYPE,
            "name=Ada+Lovelace&message=hi%20there",
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(
            reply
                .body
                .contains(r#"<span id="echo-name">Ada Lovelace</span>"#)
        );
        assert!(
            reply
                .body
                .contains(r#"<span id="echo-message">hi there</span>"#)
        );
    }

    #[tokio::test]
    async fn escapes_markup() {
        let reply = with_body(
            &state(),
            "POST",
            "/form",
            FORM_TYPE,
            "name=x&message=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(
            reply.body.contains(
                r#"<span id="echo-message">&lt;script&gt;alert(1)&lt;/script&gt;</span>"#
            )
        );
        assert!(!reply.body.contains("<script>"));
    }
}
