//! A fixed-delay HTTP/1.1 server for `benches/accuracy.py`: every request is answered
//! DELAY_US microseconds after its head has been read. One thread per keep-alive
//! connection, sleeping with a 1 µs timer slack (the default 50 µs would add to every
//! answer). A sleeping thread still wakes a little late now and then, so the server also
//! times what it really did: `GET /stats` answers the p50/p99 of the hold times (head read
//! to answer written) since the previous `/stats`, the truth a client's percentiles are
//! compared with. Prints `port N` once listening; stops when killed.
//!
//! `cargo run --release --example delay_server -- DELAY_US`

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Hold times (µs) since the last `/stats`.
static HOLDS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";

fn main() {
    let delay_us: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("usage: delay_server DELAY_US");
    let delay = Duration::from_micros(delay_us);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    println!("port {}", listener.local_addr().unwrap().port());
    std::io::stdout().flush().unwrap();
    for stream in listener.incoming().flatten() {
        std::thread::spawn(move || serve(stream, delay));
    }
}

fn serve(mut stream: TcpStream, delay: Duration) {
    // SAFETY: prctl on the calling thread with plain integer arguments.
    unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1000 as libc::c_ulong, 0, 0, 0) };
    let _ = stream.set_nodelay(true);
    let mut pending = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        let end = loop {
            if let Some(i) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => pending.extend_from_slice(&chunk[..n]),
            }
        };
        let read_at = Instant::now();
        let stats = pending.starts_with(b"GET /stats ");
        pending.drain(..end); // GET requests only: no body follows the head
        if stats {
            if stream.write_all(&stats_response()).is_err() {
                return;
            }
            continue;
        }
        let answer_at = read_at + delay;
        let now = Instant::now();
        if answer_at > now {
            std::thread::sleep(answer_at - now);
        }
        if stream.write_all(RESPONSE).is_err() {
            return;
        }
        let held = read_at.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
        HOLDS.lock().unwrap().push(held);
    }
}

/// `{"count": n, "p50_us": x, "p99_us": y}` over the holds since the last call.
fn stats_response() -> Vec<u8> {
    let mut holds = std::mem::take(&mut *HOLDS.lock().unwrap());
    holds.sort_unstable();
    // Nearest rank, as HDR histograms report percentiles.
    let at = |q: f64| match holds.len() {
        0 => 0,
        n => holds[((q * n as f64).ceil() as usize).clamp(1, n) - 1],
    };
    let body = format!(
        "{{\"count\": {}, \"p50_us\": {}, \"p99_us\": {}}}",
        holds.len(),
        at(0.50),
        at(0.99)
    );
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}
