use super::*;

const VALID: &str = r#"{"harness":1,"pid":4242,"listening":{"http":"http://127.0.0.1:41507"}}"#;

fn err(line: &str) -> String {
    parse(line).expect_err("must be rejected").to_string()
}

#[test]
fn valid_line() {
    let hs = parse(VALID).unwrap();
    assert_eq!(hs.pid, 4242);
    let l = hs.primary();
    assert_eq!(l.url.as_str(), "http://127.0.0.1:41507/");
    assert_eq!(l.addr, "127.0.0.1:41507".parse().unwrap());
}

#[test]
fn several_named_listeners_and_ipv6() {
    let hs = parse(
        r#"{"harness":1,"pid":1,"listening":{"admin":"http://[::1]:9001","http":"https://127.0.0.1:9000/app/"}}"#,
    )
    .unwrap();
    assert_eq!(hs.listening["admin"].url.as_str(), "http://[::1]:9001/");
    assert_eq!(
        hs.listening["http"].url.as_str(),
        "https://127.0.0.1:9000/app/"
    );
    assert_eq!(hs.primary().addr.port(), 9000);
}

#[test]
fn unspecified_address_connects_on_loopback() {
    let hs = parse(r#"{"harness":1,"pid":1,"listening":{"http":"http://0.0.0.0:8080"}}"#).unwrap();
    assert_eq!(hs.primary().url.as_str(), "http://127.0.0.1:8080/");
    assert!(hs.primary().addr.ip().is_unspecified());
}

#[test]
fn garbage_is_quoted() {
    let e = err("this is not json");
    assert!(e.contains("not a JSON object"), "{e}");
    assert!(e.contains("\"this is not json\""), "{e}");
}

#[test]
fn json_without_version_key() {
    let e = err(r#"{"pid":1,"listening":{"http":"http://127.0.0.1:1"}}"#);
    assert!(e.contains("no \"harness\" version key"), "{e}");
}

#[test]
fn unsupported_version() {
    let e = err(r#"{"harness":2,"pid":1,"listening":{"http":"http://127.0.0.1:1"}}"#);
    assert!(e.contains("version 2 is not supported"), "{e}");
}

#[test]
fn missing_and_mistyped_fields() {
    assert!(
        err(r#"{"harness":1,"listening":{"http":"http://127.0.0.1:1"}}"#)
            .contains("`pid` is missing")
    );
    assert!(
        err(r#"{"harness":1,"pid":"x","listening":{"http":"http://127.0.0.1:1"}}"#)
            .contains("`pid` must be")
    );
    assert!(err(r#"{"harness":1,"pid":1}"#).contains("`listening` is missing"));
    assert!(err(r#"{"harness":1,"pid":1,"listening":{}}"#).contains("at least one listener"));
    assert!(
        err(r#"{"harness":1,"pid":1,"listening":"http://127.0.0.1:1"}"#)
            .contains("must be an object")
    );
    assert!(err(r#"{"harness":1,"pid":1,"listening":{"http":8080}}"#).contains("must be a string"));
}

#[test]
fn port_zero() {
    let e = err(r#"{"harness":1,"pid":1,"listening":{"http":"http://127.0.0.1:0"}}"#);
    assert!(e.contains("port 0 is not a bound port"), "{e}");
    assert!(e.contains("listener `http`"), "{e}");
}

#[test]
fn non_numeric_and_out_of_range_ports() {
    let e = err(r#"{"harness":1,"pid":1,"listening":{"http":"http://127.0.0.1:http"}}"#);
    assert!(e.contains("port \"http\" is not a number"), "{e}");
    let e = err(r#"{"harness":1,"pid":1,"listening":{"http":"http://127.0.0.1:70000"}}"#);
    assert!(e.contains("port 70000 is out of range"), "{e}");
}

#[test]
fn url_without_port() {
    let e = err(r#"{"harness":1,"pid":1,"listening":{"http":"http://127.0.0.1/"}}"#);
    assert!(e.contains("no port"), "{e}");
}

#[test]
fn non_http_scheme() {
    let e = err(r#"{"harness":1,"pid":1,"listening":{"db":"postgres://127.0.0.1:5432"}}"#);
    assert!(e.contains("scheme must be http or https"), "{e}");
}

#[test]
fn host_names_are_refused() {
    let e = err(r#"{"harness":1,"pid":1,"listening":{"http":"http://localhost:8080"}}"#);
    assert!(
        e.contains("\"localhost\" is not a literal IP address"),
        "{e}"
    );
}

#[test]
fn crlf_and_ansi_codes_are_tolerated() {
    assert_eq!(parse(&format!("{VALID}\r")).unwrap().pid, 4242);
    let coloured = format!("\u{1b}[32m{VALID}\u{1b}[0m\r");
    assert_eq!(parse(&coloured).unwrap().pid, 4242);
    assert_eq!(
        clean_line("\u{1b}]0;title\u{7}\u{1b}[1;31mred\u{1b}[m  "),
        "red"
    );
}

#[test]
fn long_lines_are_shortened_in_errors() {
    let long = format!(
        "{{\"harness\":1,\"pid\":1,\"junk\":\"{}\"}}",
        "x".repeat(10_000)
    );
    let e = err(&long);
    assert!(e.contains("chars omitted"), "{e}");
    assert!(e.len() < 600, "error is {} bytes", e.len());
}

#[test]
fn detect_skips_logs_but_not_broken_handshakes() {
    assert!(detect("INFO listening soon").is_none());
    assert!(detect(r#"{"level":"info","msg":"hi"}"#).is_none());
    assert!(detect(r#"{"level":"info","msg":"the \"harness\" key"}"#).is_none());
    assert_eq!(detect(VALID).unwrap().unwrap().pid, 4242);
    // Truncated: looks like a handshake, is not valid JSON: an error, not silence.
    assert!(detect(r#"{"harness":1,"pid":1,"listen"#).unwrap().is_err());
}

#[cfg(feature = "server")]
#[test]
fn a_line_split_across_reads_is_reassembled() {
    let mut splitter = LineSplitter::new(64 * 1024);
    let stream = format!("log before\r\n{VALID}\r\nlog after\n");
    let bytes = stream.as_bytes();
    let mut lines = Vec::new();
    // Every possible split point, plus one byte at a time.
    for chunk in bytes.chunks(3) {
        lines.extend(splitter.push(chunk));
    }
    assert_eq!(splitter.finish(), None);
    assert_eq!(lines.len(), 3);
    assert_eq!(parse(&lines[1]).unwrap().pid, 4242);
    assert!(detect(&lines[0]).is_none() && detect(&lines[2]).is_none());
}

#[cfg(feature = "server")]
#[test]
fn splitter_bounds_memory_on_endless_lines() {
    let mut splitter = LineSplitter::new(10);
    let lines = splitter.push(&[b'a'; 25]);
    assert_eq!(lines, vec!["a".repeat(10), "a".repeat(10)]);
    assert_eq!(splitter.finish(), Some("a".repeat(5)));
    let lines = splitter.push(b"0123456789\nz");
    assert_eq!(lines, vec!["0123456789".to_string()]);
    // A line of exactly the limit whose newline comes in the next read is one line, not two.
    let mut splitter = LineSplitter::new(10);
    assert!(splitter.push(b"0123456789").is_empty());
    assert_eq!(splitter.push(b"\n"), vec!["0123456789".to_string()]);
}

#[test]
fn line_round_trips_through_parse() {
    let addrs: [(&str, SocketAddr); 2] = [
        ("http", "127.0.0.1:5000".parse().unwrap()),
        ("v6", "[::1]:5001".parse().unwrap()),
    ];
    let hs = parse(&line(99, addrs)).unwrap();
    assert_eq!(hs.pid, 99);
    assert_eq!(hs.listening["v6"].url.as_str(), "http://[::1]:5001/");
}

fn with_url(url: &str) -> String {
    format!(r#"{{"harness":1,"pid":1,"listening":{{"http":"{url}"}}}}"#)
}

#[test]
fn addresses_that_are_not_this_machine_are_refused() {
    for host in [
        "10.1.2.3",
        "8.8.8.8",
        "192.168.1.5",
        "[2001:db8::1]",
        "[fe80::1]",
    ] {
        let e = err(&with_url(&format!("http://{host}:8080")));
        let bare = host.trim_matches(['[', ']']);
        assert!(
            e.contains(&format!(
                "announces {bare}, which is not a loopback address"
            )),
            "{e}"
        );
        assert!(e.contains("must bind and announce 127.0.0.1"), "{e}");
        // The detector (what the reader uses) refuses it too, instead of skipping it.
        assert!(
            detect(&with_url(&format!("http://{host}:8080")))
                .unwrap()
                .is_err()
        );
    }
    let e = err(&with_url("http://example.com:8080"));
    assert!(
        e.contains("\"example.com\" is not a literal IP address"),
        "{e}"
    );
    assert!(e.contains("127.0.0.1"), "{e}");
}

#[test]
fn every_loopback_form_and_the_wildcards_are_accepted() {
    for (url, connect) in [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/"),
        ("http://127.0.0.2:8080", "http://127.0.0.2:8080/"),
        ("http://[::1]:8080", "http://[::1]:8080/"),
        (
            "http://[::ffff:127.0.0.1]:8080",
            "http://[::ffff:7f00:1]:8080/",
        ),
        ("http://0.0.0.0:8080", "http://127.0.0.1:8080/"),
        ("http://[::]:8080", "http://[::1]:8080/"),
    ] {
        let hs = parse(&with_url(url)).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(hs.primary().url.as_str(), connect, "{url}");
    }
}

#[test]
fn the_allow_list_hook_accepts_only_what_it_names() {
    let line = with_url("http://192.168.1.5:8080");
    let lan: IpAddr = "192.168.1.5".parse().unwrap();
    let other: IpAddr = "192.168.1.6".parse().unwrap();
    assert!(matches!(
        parse_allowing(&line, &[other]),
        Err(HandshakeError::NotLoopback { host, .. }) if host == lan
    ));
    let hs = parse_allowing(&line, &[lan]).unwrap();
    assert_eq!(hs.primary().url.as_str(), "http://192.168.1.5:8080/");
    assert!(detect_allowing(&line, &[lan]).unwrap().is_ok());
}

#[test]
fn a_byte_order_mark_or_nul_bytes_before_the_handshake_are_accepted() {
    for prefix in [
        "\u{feff}",
        "\0",
        "\0\0\0",
        "\u{feff}\0 ",
        "\u{feff}\u{1b}[32m",
    ] {
        let line = format!("{prefix}{VALID}\0\r");
        let hs = detect(&line)
            .unwrap_or_else(|| panic!("{prefix:?} hid the handshake"))
            .unwrap_or_else(|e| panic!("{prefix:?}: {e}"));
        assert_eq!(hs.pid, 4242, "{prefix:?}");
    }
}

/// Split across reads, the BOM in a read of its own, as a runtime writing it first would.
#[cfg(feature = "server")]
#[test]
fn a_byte_order_mark_in_a_read_of_its_own_is_accepted() {
    let mut splitter = LineSplitter::new(1024);
    let mut lines = splitter.push("\u{feff}".as_bytes());
    lines.extend(splitter.push(format!("{VALID}\n").as_bytes()));
    assert_eq!(detect(&lines[0]).unwrap().unwrap().pid, 4242);
}
