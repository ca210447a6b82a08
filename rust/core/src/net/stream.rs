//! A connection that is either plain TCP or TLS over TCP, without dynamic dispatch.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// Asks the kernel to stamp when each received packet reached this socket (software RX
/// timestamps, `SO_TIMESTAMPNS`), so a response's arrival is known without our thread's
/// own wake-up delay (`Stream::read_stamped`). Best effort: without it reads are timed
/// when they return, as are the first reads after the kernel is first asked (it turns
/// stamping on system-wide in deferred work).
pub fn enable_rx_timestamps(tcp: &TcpStream) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let on: libc::c_int = 1;
        // SAFETY: sets an int socket option on a socket we own, from a valid int.
        unsafe {
            libc::setsockopt(
                tcp.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_TIMESTAMPNS,
                (&on as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = tcp;
}

/// When the last packet of a read reached the socket, if the kernel said.
pub type RxStamp = Option<std::time::Instant>;

/// Plain or TLS byte stream.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Stream {
    /// Whether the peer has closed (or sent something unasked) while the connection sat
    /// idle: a non-blocking peek at the socket, so nothing is consumed.
    pub fn idle_peer_gone(&self) -> bool {
        use std::os::fd::AsRawFd;
        let fd = match self {
            Self::Plain(s) => s.as_raw_fd(),
            Self::Tls(t) => t.get_ref().0.as_raw_fd(),
        };
        let mut byte = 0u8;
        // SAFETY: peeks at most one byte into a valid buffer on a socket we own.
        let n = unsafe {
            libc::recv(
                fd,
                (&mut byte as *mut u8).cast(),
                1,
                libc::MSG_PEEK | libc::MSG_DONTWAIT,
            )
        };
        // 0: orderly close; >0: bytes nobody asked for (e.g. a TLS close_notify);
        // -1 with EAGAIN: alive and quiet.
        n >= 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::WouldBlock
    }

    /// Reads into `buf`'s spare capacity like `read_buf`; on a plain Linux TCP socket also
    /// returns when the last packet read had reached the socket (the kernel's timestamp,
    /// moved onto the monotonic clock).
    pub async fn read_stamped(
        &mut self,
        buf: &mut bytes::BytesMut,
    ) -> io::Result<(usize, RxStamp)> {
        #[cfg(target_os = "linux")]
        if let Self::Plain(tcp) = self {
            return read_stamped_tcp(tcp, buf).await;
        }
        use tokio::io::AsyncReadExt;
        Ok((self.read_buf(buf).await?, None))
    }

    /// The ALPN protocol the server chose (TLS only).
    pub fn alpn(&self) -> Option<&[u8]> {
        match self {
            Self::Plain(_) => None,
            Self::Tls(t) => t.get_ref().1.alpn_protocol(),
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Plain(s) => s.is_write_vectored(),
            Self::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(target_os = "linux")]
async fn read_stamped_tcp(
    tcp: &TcpStream,
    buf: &mut bytes::BytesMut,
) -> io::Result<(usize, RxStamp)> {
    use bytes::BufMut;
    use std::os::fd::AsRawFd;
    use tokio::io::Interest;

    let fd = tcp.as_raw_fd();
    loop {
        tcp.readable().await?;
        let spare = buf.chunk_mut();
        let mut iov = libc::iovec {
            iov_base: spare.as_mut_ptr().cast(),
            iov_len: spare.len(),
        };
        // Room for one SCM_TIMESTAMPNS control message (a timespec), aligned.
        let mut control = [0u64; 8];
        // SAFETY: zeroed msghdr is a valid "no name, no control" header; filled below.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control);
        let result = tcp.try_io(Interest::READABLE, || {
            // SAFETY: `msg` points at one iovec over `buf`'s spare capacity and at
            // `control`, both alive for the call.
            let n = unsafe { libc::recvmsg(fd, &mut msg, 0) };
            if n < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        });
        match result {
            Ok(n) => {
                // SAFETY: the kernel initialized `n` bytes of the spare capacity.
                unsafe { buf.advance_mut(n) };
                return Ok((n, rx_stamp(&msg)));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
}

/// The SCM_TIMESTAMPNS in `msg`, as an `Instant`.
#[cfg(target_os = "linux")]
fn rx_stamp(msg: &libc::msghdr) -> RxStamp {
    // SAFETY: walks the control messages the kernel wrote into `msg`'s buffer.
    let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(msg) };
    while !cmsg.is_null() {
        // SAFETY: `cmsg` is a valid header within the control buffer.
        let header = unsafe { &*cmsg };
        if header.cmsg_level == libc::SOL_SOCKET && header.cmsg_type == libc::SCM_TIMESTAMPNS {
            // SAFETY: SCM_TIMESTAMPNS carries one timespec (possibly unaligned).
            let ts: libc::timespec =
                unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast()) };
            return realtime_to_instant(ts);
        }
        // SAFETY: advances within the same control buffer.
        cmsg = unsafe { libc::CMSG_NXTHDR(msg, cmsg) };
    }
    None
}

/// A CLOCK_REALTIME stamp on the monotonic clock: how long ago it was, taken from now.
#[cfg(target_os = "linux")]
fn realtime_to_instant(ts: libc::timespec) -> RxStamp {
    let now = std::time::Instant::now();
    let mut real = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: writes the current time into a valid timespec.
    if unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut real) } != 0 {
        return None;
    }
    let nanos = |t: &libc::timespec| t.tv_sec as i128 * 1_000_000_000 + t.tv_nsec as i128;
    let ago = nanos(&real) - nanos(&ts);
    // A stamp from the future, or older than a second, is a clock step: ignore it.
    if !(0..1_000_000_000).contains(&ago) {
        return None;
    }
    now.checked_sub(std::time::Duration::from_nanos(ago as u64))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};
    use tokio::io::AsyncWriteExt;

    /// The stamp is when the bytes reached the socket, not when we got round to reading
    /// them: a read 30 ms after the server wrote still reports the early arrival.
    #[tokio::test]
    async fn stamped_reads_report_arrival_not_read_time() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let tcp = TcpStream::connect(addr).await.unwrap();
        enable_rx_timestamps(&tcp);
        let (mut server, _) = listener.accept().await.unwrap();
        let mut stream = Stream::Plain(tcp);
        let mut buf = bytes::BytesMut::with_capacity(64);
        // The kernel turns receive stamping on system-wide in deferred work when the first
        // socket asks: packets in the first moments may come unstamped (the engine then
        // times those reads as before). Wait until stamps flow.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            server.write_all(b".").await.unwrap();
            buf.clear();
            let (_, stamp) = stream.read_stamped(&mut buf).await.unwrap();
            if stamp.is_some() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the kernel never stamped a packet"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        buf.clear();
        let written = Instant::now();
        server.write_all(b"hello").await.unwrap();
        std::thread::sleep(Duration::from_millis(30));
        let (n, stamp) = stream.read_stamped(&mut buf).await.unwrap();
        let read = Instant::now();
        assert_eq!(&buf[..n], b"hello");
        let stamp = stamp.expect("stamping is on");
        assert!(
            stamp >= written - Duration::from_millis(1),
            "{stamp:?} {written:?}"
        );
        assert!(
            read - stamp >= Duration::from_millis(25),
            "{:?}",
            read - stamp
        );
    }
}
