//! `--ready NAME=@PRESET`: the ready lines of common servers that print no handshake, so a user
//! need not write (and get wrong) the regex.

use harness::Ready;

/// Each preset: its name after `@`, the regex, and an example line it matches.
const PRESETS: &[(&str, &str, &str)] = &[
    (
        "uvicorn",
        r"Uvicorn running on (?P<url>https?://[^\s/]+)",
        "INFO:     Uvicorn running on http://127.0.0.1:8000 (Press CTRL+C to quit)",
    ),
    (
        "flask",
        r"^\s*\* Running on (?P<url>https?://[^\s/]+)",
        " * Running on http://127.0.0.1:5000",
    ),
    (
        "vite",
        r"Local:\s+(?P<url>https?://\S+)",
        "  ➜  Local:   http://127.0.0.1:5173/",
    ),
    (
        "express",
        r"\b[Ll]istening (?:on|at)\b.*?(?P<port>\d+)\D*$",
        "Example app listening on port 3000",
    ),
];

/// The names of every preset, for messages: `@uvicorn, @flask, ...`.
pub(crate) fn names() -> String {
    PRESETS
        .iter()
        .map(|(name, _, _)| format!("@{name}"))
        .chain(["@chromedriver".into(), "@geckodriver".into()])
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rule of preset `name` (without the `@`), or `None` when there is no such preset.
pub(crate) fn find(name: &str) -> Option<Ready> {
    match name {
        "chromedriver" => return Some(Ready::chromedriver()),
        "geckodriver" => return Some(Ready::geckodriver()),
        _ => {}
    }
    PRESETS
        .iter()
        .find(|(preset, _, _)| *preset == name)
        .map(|(_, regex, _)| Ready::line(regex).expect("every preset compiles"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    /// What `regex` captures from `line` as the URL or port.
    fn captured(regex: &str, line: &str) -> Option<String> {
        let caps = Regex::new(regex).unwrap().captures(line)?;
        caps.name("url")
            .or_else(|| caps.name("port"))
            .map(|m| m.as_str().to_owned())
    }

    #[test]
    fn every_preset_matches_its_server_and_compiles_as_a_rule() {
        for (name, regex, example) in PRESETS {
            assert!(find(name).is_some(), "{name}");
            assert!(captured(regex, example).is_some(), "{name}: {example}");
        }
        assert!(find("chromedriver").is_some());
        assert!(find("nginx").is_none());
        assert!(names().contains("@uvicorn") && names().contains("@express"));
    }

    #[test]
    fn presets_capture_the_address_itself() {
        let get = |name: &str, line: &str| {
            let regex = PRESETS.iter().find(|(n, _, _)| *n == name).unwrap().1;
            captured(regex, line)
        };
        let uvicorn = "INFO:     Uvicorn running on http://127.0.0.1:41234 (Press CTRL+C to quit)";
        assert_eq!(get("uvicorn", uvicorn).unwrap(), "http://127.0.0.1:41234");
        assert_eq!(
            get("flask", " * Running on http://127.0.0.1:5001").unwrap(),
            "http://127.0.0.1:5001"
        );
        assert_eq!(get("flask", " * Running on all addresses (0.0.0.0)"), None);
        // Vite colours its output; the library strips ANSI codes before any rule sees a line.
        assert_eq!(
            get("vite", "  ➜  Local:   http://localhost:5173/").unwrap(),
            "http://localhost:5173/"
        );
        for (line, port) in [
            ("Example app listening on port 3000", "3000"),
            ("Server listening on http://127.0.0.1:41000", "41000"),
            ("listening at 127.0.0.1:4100/", "4100"),
            ("Listening on 8081", "8081"),
        ] {
            assert_eq!(get("express", line).unwrap(), port, "{line}");
        }
        assert_eq!(get("express", "listening soon"), None);
    }
}
