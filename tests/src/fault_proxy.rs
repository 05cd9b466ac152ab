//! A fault-injecting HTTP proxy in front of the emulator: the AWS SDK talks to it as to AWS, and
//! it forwards each request to moto unless a rule says otherwise. Faults are what a sale brings:
//! - [`Fault::Status`]: the service answers an error (throttling, a 5xx) without acting, in the
//!   wire shape of the call's protocol (awsJson `__type`, awsQuery XML, restJson
//!   `x-amzn-ErrorType`), so the SDK parses it as the real service's error;
//! - [`Fault::LoseAnswer`]: the request reaches moto and acts, then the connection is dropped
//!   before the answer: the case where only the caller's own bookkeeping can tell what happened;
//! - [`Fault::Refuse`]: the connection is dropped before anything is forwarded.
//!
//! Rules match an operation (`TransactWriteItems`, `SendEmail`, `Publish`, …) and fire a number of
//! times or on a fraction of calls. Every connection is answered with `connection: close`, so
//! each request arrives on a connection of its own.

use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What to do to a matching call.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer this status with this error code; nothing is forwarded.
    Status(u16, &'static str),
    /// Forward, let it act, then drop the connection without an answer.
    LoseAnswer,
    /// Drop the connection without forwarding.
    Refuse,
}

/// When a rule fires.
#[derive(Debug, Clone)]
pub enum Times {
    /// The next `n` matching calls.
    Next(u32),
    /// Each matching call with this probability.
    Fraction(f64),
}

#[derive(Debug, Clone)]
struct Rule {
    operation: &'static str,
    fault: Fault,
    times: Times,
}

/// What went through the proxy, per operation and fault.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// `(operation, fault name or "forwarded")`.
    pub calls: Vec<(String, &'static str)>,
}

impl Tally {
    /// How many calls of `operation` met `outcome` ("forwarded", "status", "lose_answer", "refuse").
    pub fn count(&self, operation: &str, outcome: &str) -> usize {
        self.calls.iter().filter(|(op, o)| op == operation && *o == outcome).count()
    }
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    tally: Tally,
}

/// The running proxy; dropped, it stops.
pub struct FaultProxy {
    url: String,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// A proxy on a free port forwarding to `upstream` (an `http://host:port` endpoint).
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let http = reqwest::Client::builder().build().unwrap();
        let (upstream, shared) = (upstream.trim_end_matches('/').to_owned(), state.clone());
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (http, upstream, state) = (http.clone(), upstream.clone(), shared.clone());
                tokio::spawn(async move {
                    let _ = serve(socket, &http, &upstream, &state).await;
                });
            }
        });
        Self { url, state, task }
    }

    /// The endpoint to give the SDK.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Adds a rule for `operation`.
    pub fn inject(&self, operation: &'static str, fault: Fault, times: Times) {
        self.state.lock().unwrap().rules.push(Rule { operation, fault, times });
    }

    /// Removes every rule: from now on everything is forwarded.
    pub fn heal(&self) {
        self.state.lock().unwrap().rules.clear();
    }

    /// What went through so far.
    pub fn tally(&self) -> Tally {
        self.state.lock().unwrap().tally.clone()
    }
}

/// One request on one connection.
async fn serve(
    mut socket: TcpStream,
    http: &reqwest::Client,
    upstream: &str,
    state: &Mutex<State>,
) -> std::io::Result<()> {
    let Some(request) = read_request(&mut socket).await? else {
        return Ok(());
    };
    let operation = request.operation();
    let fault = choose(state, &operation);
    let outcome = match &fault {
        None => "forwarded",
        Some(Fault::Status(..)) => "status",
        Some(Fault::LoseAnswer) => "lose_answer",
        Some(Fault::Refuse) => "refuse",
    };
    state.lock().unwrap().tally.calls.push((operation.clone(), outcome));
    match fault {
        Some(Fault::Refuse) => Ok(()),
        Some(Fault::Status(status, code)) => {
            let (headers, body) = request.error_answer(code);
            write_response(&mut socket, status, &headers, body.as_bytes()).await
        }
        Some(Fault::LoseAnswer) => {
            let _ = forward(http, upstream, &request).await;
            Ok(())
        }
        None => match forward(http, upstream, &request).await {
            Ok((status, headers, body)) => write_response(&mut socket, status, &headers, &body).await,
            Err(_) => Ok(()),
        },
    }
}

/// The fault of the first rule that fires for `operation`, if any.
fn choose(state: &Mutex<State>, operation: &str) -> Option<Fault> {
    let mut state = state.lock().unwrap();
    for rule in state.rules.iter_mut().filter(|r| r.operation == operation) {
        match &mut rule.times {
            Times::Next(0) => continue,
            Times::Next(n) => {
                *n -= 1;
                return Some(rule.fault.clone());
            }
            Times::Fraction(p) => {
                if fastrand::f64() < *p {
                    return Some(rule.fault.clone());
                }
            }
        }
    }
    None
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The AWS operation: awsJson's `x-amz-target`, awsQuery's `Action=`, or for restJson the
    /// paths this project calls.
    fn operation(&self) -> String {
        if let Some(target) = self.header("x-amz-target") {
            return target.rsplit('.').next().unwrap_or(target).to_owned();
        }
        let body = String::from_utf8_lossy(&self.body);
        if let Some(action) = body.split('&').find_map(|pair| pair.strip_prefix("Action=")) {
            return action.to_owned();
        }
        if self.path.starts_with("/v2/email/outbound-emails") {
            return "SendEmail".to_owned();
        }
        format!("{} {}", self.method, self.path.split('?').next().unwrap_or_default())
    }

    /// An error answer in the request's protocol.
    fn error_answer(&self, code: &str) -> (Vec<(String, String)>, String) {
        if self.header("x-amz-target").is_some() {
            let body = format!(r#"{{"__type":"com.amazonaws.fault#{code}","message":"injected {code}"}}"#);
            (vec![("content-type".into(), "application/x-amz-json-1.0".into())], body)
        } else if String::from_utf8_lossy(&self.body).contains("Action=") {
            let body = format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>injected</Message></Error>\
                 <RequestId>fault-proxy</RequestId></ErrorResponse>"
            );
            (vec![("content-type".into(), "text/xml".into())], body)
        } else {
            let headers =
                vec![("content-type".into(), "application/json".into()), ("x-amzn-errortype".into(), code.into())];
            (headers, format!(r#"{{"message":"injected {code}"}}"#))
        }
    }
}

/// Reads one HTTP/1.1 request (headers, then a `content-length` body).
async fn read_request(socket: &mut TcpStream) -> std::io::Result<Option<Request>> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let header_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        let read = socket.read(&mut chunk).await?;
        if read == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..header_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let (method, path) =
        (request_line.next().unwrap_or_default().to_owned(), request_line.next().unwrap_or("/").to_owned());
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buffer[header_end + 4..].to_vec();
    while body.len() < length {
        let read = socket.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..read]);
    }
    Ok(Some(Request { method, path, headers, body }))
}

/// Forwards a request to the emulator as it came (but for hop-by-hop headers).
async fn forward(
    http: &reqwest::Client,
    upstream: &str,
    request: &Request,
) -> reqwest::Result<(u16, Vec<(String, String)>, Vec<u8>)> {
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap_or(reqwest::Method::POST);
    let mut call = http.request(method, format!("{upstream}{}", request.path));
    for (name, value) in &request.headers {
        let hop = ["host", "connection", "content-length", "transfer-encoding", "expect"];
        if !hop.iter().any(|h| name.eq_ignore_ascii_case(h)) {
            call = call.header(name, value);
        }
    }
    let response = call.body(request.body.clone()).send().await?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter(|(name, _)| !["connection", "content-length", "transfer-encoding"].contains(&name.as_str()))
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap_or_default().to_owned()))
        .collect();
    Ok((status, headers, response.bytes().await?.to_vec()))
}

async fn write_response(
    socket: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} Fault Proxy\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("content-length: {}\r\nconnection: close\r\n\r\n", body.len()));
    socket.write_all(head.as_bytes()).await?;
    socket.write_all(body).await?;
    socket.shutdown().await
}
