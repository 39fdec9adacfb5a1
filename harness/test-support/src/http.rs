//! One HTTP GET for every test target: a fresh plain HTTP/1.1 connection, `Connection: close`, no
//! proxy (a test's `HTTP_PROXY` must not intercept loopback), no redirects. Enough for the fixtures,
//! which answer with a `Content-Length`; a chunked answer is refused rather than misread.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long to wait to connect and for each read.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A response: its status code, header block and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code (`200`).
    pub status: u16,
    /// The status line and headers, without the blank line after them.
    pub head: String,
    /// The body, read to the end of the connection.
    pub body: String,
}

/// `GET url` (`http://IP:PORT/path?query`). Panics, naming the URL, on any failure: these are
/// test helpers.
///
/// ```no_run
/// let response = test_support::http::get("http://127.0.0.1:8080/hello");
/// assert_eq!((response.status, response.body.as_str()), (200, "Hello World"));
/// ```
pub fn get(url: &str) -> Response {
    let rest = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("{url:?} is not an http:// URL"));
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let addr: SocketAddr = authority
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .unwrap_or_else(|| panic!("{url:?}: no address in {authority:?}"));
    let mut stream = TcpStream::connect_timeout(&addr, PATIENCE)
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    stream
        .set_read_timeout(Some(PATIENCE))
        .expect("a read timeout");
    write!(
        stream,
        "GET /{path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .unwrap_or_else(|e| panic!("send GET {url}: {e}"));
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .unwrap_or_else(|e| panic!("read the response to GET {url}: {e}"));
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("GET {url}: no end of headers in {response:?}"));
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "GET {url}: a chunked response, which this helper does not decode: {head}"
    );
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("GET {url}: no status in {head:?}"));
    Response {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

/// [`get`], asserting status 200; returns the body.
///
/// ```no_run
/// assert_eq!(test_support::http::get_ok("http://127.0.0.1:8080/hello"), "Hello World");
/// ```
pub fn get_ok(url: &str) -> String {
    let response = get(url);
    assert_eq!(response.status, 200, "GET {url}: {}", response.head);
    response.body
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A one-shot server on loopback that answers `answer` and returns the request it got.
    fn serve(answer: &'static str) -> (String, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/p?q=1", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut request = Vec::new();
            let mut buf = [0; 1024];
            while !request.ends_with(b"\r\n\r\n") {
                let n = conn.read(&mut buf).unwrap();
                assert!(n > 0, "the request ended early");
                request.extend_from_slice(&buf[..n]);
            }
            conn.write_all(answer.as_bytes()).unwrap();
            String::from_utf8(request).unwrap()
        });
        (url, server)
    }

    #[test]
    fn gets_the_status_and_body_and_sends_path_and_query() {
        let (url, server) =
            serve("HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope");
        let response = get(&url);
        assert_eq!((response.status, response.body.as_str()), (404, "nope"));
        let request = server.join().unwrap();
        assert!(request.starts_with("GET /p?q=1 HTTP/1.1\r\n"), "{request}");
    }

    #[test]
    #[should_panic(expected = "chunked")]
    fn a_chunked_response_is_refused() {
        let (url, _server) =
            serve("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
        get(&url);
    }
}
