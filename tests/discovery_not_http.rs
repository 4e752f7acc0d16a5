//! Something that answers, but not in HTTP (a wrong port: an SSH server, a response head larger than any
//! HTTP server sends), is a loud `NotHttp` error, told apart from a server that is off (`Unreachable`,
//! quiet). Hand-written servers on 127.0.0.1, each connection served by its own task.

use std::time::Duration;

use modelroute::{DiscoveryError, LiteLlm, LmStudio, Ollama, Provider};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How a fake server treats a connection.
#[derive(Clone, Copy)]
enum Peer {
    /// An SSH server: its banner as soon as the connection opens, then, on reading the HTTP request,
    /// OpenSSH's complaint, and the connection is closed.
    SshSpeaksFirst,
    /// A server that reads the request, then answers with an SSH banner where a status line belongs.
    SshAnswers,
    /// An HTTP server whose response head carries a 3 MiB header.
    HugeHeader,
}

const BANNER: &[u8] = b"SSH-2.0-OpenSSH_9.6\r\n";

async fn read_request(sock: &mut TcpStream) {
    let mut buf = [0u8; 8192];
    let _ = sock.read(&mut buf).await;
}

async fn serve(mut sock: TcpStream, peer: Peer) {
    // Write errors are expected: the client gives up and closes.
    match peer {
        Peer::SshSpeaksFirst => {
            let _ = sock.write_all(BANNER).await;
            read_request(&mut sock).await;
            let _ = sock
                .write_all(b"Invalid SSH identification string.\r\n")
                .await;
        }
        Peer::SshAnswers => {
            read_request(&mut sock).await;
            let _ = sock.write_all(BANNER).await;
            // Then waits, as sshd does for the client's banner.
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        Peer::HugeHeader => {
            read_request(&mut sock).await;
            let mut head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-big: ".to_vec();
            head.resize(head.len() + (3 << 20), b'a');
            head.extend_from_slice(b"\r\ncontent-length: 13\r\n\r\n{\"models\":[]}");
            let _ = sock.write_all(&head).await;
        }
    }
}

/// Starts a server on 127.0.0.1 and returns its base URL.
async fn start(peer: Peer) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(serve(sock, peer));
        }
    });
    url
}

/// One provider of each kind at `url`, with a short per-request timeout so that a misclassified wait
/// would show up as `TimedOut`, not as a hang.
fn providers(url: &str) -> Vec<Box<dyn Provider>> {
    let timeout = Duration::from_secs(5);
    vec![
        Box::new(Ollama::new(url, None).unwrap().with_timeout(timeout)),
        Box::new(LmStudio::new(url, None).unwrap().with_timeout(timeout)),
        Box::new(LiteLlm::new(url, None).unwrap().with_timeout(timeout)),
    ]
}

async fn assert_not_http(peer: Peer) {
    let url = start(peer).await;
    let client = modelroute::reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap();
    for p in providers(&url) {
        let err = p.list_models(&client).await.unwrap_err();
        assert!(
            matches!(err, DiscoveryError::NotHttp { .. }),
            "{}: {err:?}",
            p.kind()
        );
        assert!(err.is_not_http());
        assert!(
            !err.is_quiet(),
            "a wrong port must not look like a server that is off"
        );
        assert!(!err.is_unreachable());
        assert!(err.endpoint().unwrap().starts_with(&url));
        assert!(err.to_string().contains("not HTTP"), "{err}");
    }
}

#[tokio::test]
async fn an_ssh_server_that_speaks_first_is_not_http_and_not_quiet() {
    assert_not_http(Peer::SshSpeaksFirst).await;
}

#[tokio::test]
async fn an_ssh_banner_in_place_of_a_status_line_is_not_http_and_not_quiet() {
    assert_not_http(Peer::SshAnswers).await;
}

#[tokio::test]
async fn a_response_head_over_two_mebibytes_is_not_http_and_not_quiet() {
    assert_not_http(Peer::HugeHeader).await;
}

#[tokio::test]
async fn a_port_nobody_listens_on_stays_unreachable_and_quiet() {
    // Bind, learn the port, close: nothing listens there any more.
    let url = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let client = modelroute::reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap();
    for p in providers(&url) {
        let err = p.list_models(&client).await.unwrap_err();
        assert!(err.is_unreachable(), "{}: {err:?}", p.kind());
        assert!(err.is_quiet());
        assert!(!err.is_not_http());
    }
}
