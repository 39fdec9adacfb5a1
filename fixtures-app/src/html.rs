//! HTML building: escaping and the shared page frame.

use std::fmt::Write;

use axum::response::Html;

/// Escapes `text` for use in HTML element content and in quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Wraps `body` (already HTML) in a complete page titled `title` (plain text).
pub(crate) fn page(title: &str, body: &str) -> Html<String> {
    let mut out = String::with_capacity(body.len() + 256);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{}</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n",
        escape(title)
    );
    Html(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            escape(r#"a & "b" 'c'"#),
            "a &amp; &quot;b&quot; &#39;c&#39;"
        );
    }

    #[test]
    fn leaves_plain_text_alone() {
        assert_eq!(escape("Hello, wörld"), "Hello, wörld");
        assert_eq!(escape(""), "");
    }

    #[test]
    fn page_has_the_title() {
        let Html(page) = page("a < b", "<p>x</p>");
        assert!(page.contains("<title>a &lt; b</title>"));
        assert!(page.contains("<p>x</p>"));
    }
}
