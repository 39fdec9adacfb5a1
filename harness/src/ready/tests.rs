use super::*;

fn ready_url(ready: &Ready, line: &str) -> String {
    match ready.check(line) {
        Seen::Ready { listeners, .. } => listeners["http"].to_string(),
        other => panic!("not ready on {line:?}: {other:?}"),
    }
}

#[test]
fn presets_match_real_driver_lines() {
    assert_eq!(
        ready_url(
            &Ready::chromedriver(),
            "ChromeDriver was started successfully on port 39401."
        ),
        "http://127.0.0.1:39401/"
    );
    assert_eq!(
        ready_url(
            &Ready::geckodriver(),
            "1700000000000\tgeckodriver\tINFO\tListening on 127.0.0.1:4444"
        ),
        "http://127.0.0.1:4444/"
    );
}

#[test]
fn url_group_rewrites_localhost() {
    let ready = Ready::line(r"Local:\s+(?P<url>\S+)").unwrap();
    assert_eq!(
        ready_url(&ready, "  ➜  Local:   http://localhost:5173/"),
        "http://127.0.0.1:5173/"
    );
}

#[test]
fn regex_needs_a_url_or_port_group() {
    let e = Ready::line(r"listening on (\d+)").unwrap_err().to_string();
    assert!(e.contains("no named group `url` or `port`"), "{e}");
    assert!(Ready::line(r"(?P<port>").is_err());
}

#[test]
fn url_group_connects_on_loopback_and_keeps_a_base_path() {
    let ready = Ready::line(r"on (?P<url>\S+)").unwrap();
    assert_eq!(
        ready_url(&ready, "on http://0.0.0.0:8000"),
        "http://127.0.0.1:8000/"
    );
    assert_eq!(
        ready_url(&ready, "on http://[::]:8000/app"),
        "http://[::1]:8000/app/"
    );
    assert_eq!(
        rejected(&ready, "on http://127.0.0.1:0/"),
        "url group captured \"http://127.0.0.1:0/\": port 0 is not a real port"
    );
}

fn rejected(ready: &Ready, line: &str) -> String {
    match ready.check(line) {
        Seen::Rejected { line: seen, why } => {
            assert_eq!(seen, line);
            why
        }
        other => panic!("{line:?} is not rejected: {other:?}"),
    }
}

#[test]
fn unusable_ports_are_reported_not_skipped() {
    let ready = Ready::line(r"port (?P<port>\d+)").unwrap();
    let why = rejected(&ready, "port 0");
    assert!(why.starts_with("port 0 is not a real port"), "{why}");
    assert_eq!(
        rejected_note("port 0", &why),
        format!("saw line \"port 0\": {why}")
    );
    assert_eq!(
        rejected(&ready, "port 99999"),
        "port 99999 is out of range (1-65535)"
    );
    assert_eq!(
        rejected(&ready, &format!("port 1{}", "0".repeat(30))),
        format!("port 1{} is out of range (1-65535)", "0".repeat(30))
    );
    let loose = Ready::line(r"port (?P<port>\S+)").unwrap();
    assert_eq!(
        rejected(&loose, "port http"),
        "port group captured \"http\", which is not a number"
    );
    // Lines the regex does not match stay silent.
    assert!(matches!(ready.check("starting"), Seen::Nothing));
    assert_eq!(ready_url(&ready, "port 8080"), "http://127.0.0.1:8080/");
}

#[test]
fn url_groups_that_do_not_parse_or_leave_this_machine_are_reported() {
    let ready = Ready::line(r"on (?P<url>\S+)").unwrap();
    let why = rejected(&ready, "on http://127.0.0.1:99999/");
    assert!(
        why.contains("which is not a URL (invalid port number)"),
        "{why}"
    );
    let why = rejected(&ready, "on http://[::1/");
    assert!(why.contains("which is not a URL"), "{why}");
    let why = rejected(&ready, "on http://10.1.2.3:8080/");
    assert!(
        why.contains("10.1.2.3 is not a loopback address of this machine"),
        "{why}"
    );
    let why = rejected(&ready, "on http://example.com:8080/");
    assert!(
        why.contains("host \"example.com\" is not an IP address"),
        "{why}"
    );
    let why = rejected(&ready, "on ftp://127.0.0.1:21/");
    assert!(why.contains("scheme is not http or https"), "{why}");
    let alt = Ready::line(r"at (?P<url>\S+)|listening").unwrap();
    let why = rejected(&alt, "listening");
    assert!(why.contains("captured nothing"), "{why}");
}

#[test]
fn the_wildcard_warning_names_the_line_and_what_to_do() {
    let line = r#"{"harness":1,"pid":7,"listening":{"http":"http://0.0.0.0:8080"}}"#;
    let text = wildcard_warning("http", Ipv4Addr::UNSPECIFIED.into(), line);
    assert!(text.contains(&Quoted::new(line).to_string()), "{text}");
    assert!(text.contains("bound to 0.0.0.0"), "{text}");
    assert!(text.contains("listens on all network interfaces"), "{text}");
    assert!(text.contains("should bind 127.0.0.1"), "{text}");
}

#[test]
fn announcements_that_are_not_handshakes_are_recognised() {
    for (line, part) in [
        (
            "listening on http://127.0.0.1:41123",
            "http://127.0.0.1:41123",
        ),
        (
            " * Running on http://127.0.0.1:5000",
            "http://127.0.0.1:5000",
        ),
        (
            "\u{1b}[32mINFO\u{1b}[0m Listening on 127.0.0.1:4444",
            "127.0.0.1:4444",
        ),
        (
            "  Local:   http://localhost:5173/",
            "http://localhost:5173/",
        ),
        ("server started on [::1]:8080", "[::1]:8080"),
        ("Started server on port 0", "port 0"),
        (r#"{"level":"info","port":8080}"#, r#"port":8080"#),
    ] {
        assert_eq!(
            looks_like_announcement(line).as_deref(),
            Some(part),
            "{line}"
        );
    }
    for line in [
        r#"{"harness":1,"pid":7,"listening":{"http":"http://127.0.0.1:8080"}}"#,
        "INFO starting up",
        "GET /hello 200 3ms",
        "see https://docs.rs/harness for help",
        "support for ports is coming",
    ] {
        assert_eq!(looks_like_announcement(line), None, "{line}");
    }
}

#[test]
fn an_announced_pid_is_checked_against_the_started_group() {
    use std::os::unix::process::CommandExt;
    // A leader of its own group with a member: `sh` waits on its `sleep` child.
    let mut group = std::process::Command::new("sh")
        .args(["-c", "sleep 30 & echo $!; wait"])
        .process_group(0)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(group.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let member: u32 = line.trim().parse().unwrap();
    let leader = group.id();
    assert_eq!(check_announced_pid("s", leader, leader), None);
    assert_eq!(
        check_announced_pid("s", member, leader),
        None,
        "a wrapper's child"
    );
    // This test process is in another group: a pid the harness cannot stop.
    let warning = check_announced_pid("s", std::process::id(), leader).unwrap();
    assert!(warning.contains("not in its process group"), "{warning}");
    // A pid that does not exist (another namespace's pid 1 would be taken; use a free one).
    assert!(check_announced_pid("s", u32::MAX / 2, leader).is_some());
    let _ = rustix::process::kill_process_group(
        rustix::process::Pid::from_raw(leader.cast_signed()).unwrap(),
        rustix::process::Signal::KILL,
    );
    let _ = group.wait();
}

#[test]
fn a_host_is_accepted_takes_wildcards_and_refuses_other_loopback_addresses() {
    let host: IpAddr = "10.9.8.7".parse().unwrap();
    let hs =
        |ip: &str| format!(r#"{{"harness":1,"pid":7,"listening":{{"http":"http://{ip}:8080"}}}}"#);
    let handshake = Ready::handshake().on_host(Some(host));
    assert_eq!(
        ready_url(&handshake, &hs("10.9.8.7")),
        "http://10.9.8.7:8080/"
    );
    assert_eq!(
        ready_url(&handshake, &hs("0.0.0.0")),
        "http://10.9.8.7:8080/"
    );
    let port = Ready::line(r"port (?P<port>\d+)")
        .unwrap()
        .on_host(Some(host));
    assert_eq!(ready_url(&port, "port 41"), "http://10.9.8.7:41/");
    let url = Ready::line(r"on (?P<url>\S+)").unwrap().on_host(Some(host));
    assert_eq!(
        ready_url(&url, "on http://10.9.8.7:5/"),
        "http://10.9.8.7:5/"
    );
    assert_eq!(
        ready_url(&url, "on http://0.0.0.0:5/"),
        "http://10.9.8.7:5/"
    );
    for (ready, line) in [
        (&handshake, hs("127.0.0.1")),
        (&url, "on http://localhost:5/".to_owned()),
    ] {
        match ready.check(&line) {
            Seen::IgnoredHost(why) => assert!(why.contains("ignored HARNESS_HOST"), "{why}"),
            other => panic!("{line}: {other:?}"),
        }
    }
    // Without a host, that address is another machine's.
    assert!(matches!(
        Ready::handshake().check(&hs("10.9.8.7")),
        Seen::Malformed(_)
    ));
}
