//! SO_REUSEPORT listening sockets (Linux), with the libc calls declared by hand.
//!
//! One socket per worker thread, each bound to the same address and port: the kernel spreads
//! incoming connections across the sockets that are listening (Envoy's `enable_reuse_port`,
//! config.listener.v3.Listener). A socket that is bound but not listening takes no connections and
//! keeps the port reserved for the group.

use std::net::IpAddr;
use std::os::raw::{c_int, c_void};

/// A failed system call: which one and its errno.
pub struct SockError {
    pub op: &'static str,
    pub errno: i32,
}

#[cfg(target_os = "linux")]
mod sys {
    use std::os::raw::{c_int, c_void};
    pub const AF_INET: c_int = 2;
    pub const AF_INET6: c_int = 10;
    pub const SOCK_STREAM: c_int = 1;
    pub const SOCK_NONBLOCK: c_int = 0o4000;
    pub const SOCK_CLOEXEC: c_int = 0o2000000;
    pub const SOL_SOCKET: c_int = 1;
    pub const SO_REUSEADDR: c_int = 2;
    pub const SO_REUSEPORT: c_int = 15;
    pub const IPPROTO_IPV6: c_int = 41;
    pub const IPV6_V6ONLY: c_int = 26;
    extern "C" {
        pub fn socket(domain: c_int, ty: c_int, protocol: c_int) -> c_int;
        pub fn setsockopt(fd: c_int, level: c_int, name: c_int, val: *const c_void, len: u32) -> c_int;
        pub fn bind(fd: c_int, addr: *const c_void, len: u32) -> c_int;
        pub fn listen(fd: c_int, backlog: c_int) -> c_int;
        pub fn getsockname(fd: c_int, addr: *mut c_void, len: *mut u32) -> c_int;
        pub fn close(fd: c_int) -> c_int;
        pub fn accept4(fd: c_int, addr: *mut c_void, len: *mut u32, flags: c_int) -> c_int;
        pub fn __errno_location() -> *mut c_int;
    }
}

#[cfg(target_os = "linux")]
fn errno() -> i32 {
    unsafe { *sys::__errno_location() }
}

/// `struct sockaddr_in6` (28 bytes); large enough for `sockaddr_in` (16 bytes) too.
#[repr(C)]
struct SockAddr {
    family: u16,
    port: u16, // network byte order
    rest: [u8; 24],
}

fn encode(addr: IpAddr, port: u16) -> (SockAddr, u32) {
    let mut sa = SockAddr { family: 0, port: port.to_be(), rest: [0; 24] };
    match addr {
        IpAddr::V4(v4) => {
            sa.family = 2; // AF_INET
            sa.rest[..4].copy_from_slice(&v4.octets());
            (sa, 16)
        }
        IpAddr::V6(v6) => {
            sa.family = 10; // AF_INET6
            // rest: flowinfo(4) addr(16) scope_id(4)
            sa.rest[4..20].copy_from_slice(&v6.octets());
            (sa, 28)
        }
    }
}

#[cfg(target_os = "linux")]
fn set_int(fd: c_int, level: c_int, name: c_int, v: c_int) -> bool {
    unsafe { sys::setsockopt(fd, level, name, &v as *const c_int as *const c_void, 4) == 0 }
}

/// socket() + SO_REUSEPORT [+ SO_REUSEADDR if listening] (+ IPV6_V6ONLY=0 for `::`) + bind() [+ listen()].
/// The socket is non-blocking and close-on-exec. Returns the fd.
#[cfg(target_os = "linux")]
pub fn reuse_port_socket(addr: IpAddr, port: u16, do_listen: bool, backlog: i32) -> Result<i32, SockError> {
    use sys::*;
    let domain = if addr.is_ipv4() { AF_INET } else { AF_INET6 };
    let fd = unsafe { socket(domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(SockError { op: "socket", errno: errno() });
    }
    let fail = |op: &'static str| {
        let e = errno();
        unsafe { close(fd) };
        Err(SockError { op, errno: e })
    };
    // A bound-only reservation skips SO_REUSEADDR: Linux lets an SO_REUSEADDR socket (every Node
    // net.Server) bind and listen on a port whose other sockets all have SO_REUSEADDR and none is
    // listening, which would steal the reserved port. Without it only SO_REUSEPORT sockets of the
    // same user can join the port.
    if do_listen && !set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) {
        return fail("setsockopt(SO_REUSEADDR)");
    }
    if !set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1) {
        return fail("setsockopt(SO_REUSEPORT)");
    }
    if addr.is_ipv6() && addr.is_unspecified() && !set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0) {
        return fail("setsockopt(IPV6_V6ONLY)");
    }
    let (sa, len) = encode(addr, port);
    if unsafe { bind(fd, &sa as *const SockAddr as *const c_void, len) } != 0 {
        return fail("bind");
    }
    if do_listen && unsafe { listen(fd, backlog) } != 0 {
        return fail("listen");
    }
    Ok(fd)
}

/// The local port of a bound socket (getsockname).
#[cfg(target_os = "linux")]
pub fn local_port(fd: i32) -> Result<u16, SockError> {
    let mut sa = SockAddr { family: 0, port: 0, rest: [0; 24] };
    let mut len: u32 = std::mem::size_of::<SockAddr>() as u32;
    if unsafe { sys::getsockname(fd, &mut sa as *mut SockAddr as *mut c_void, &mut len) } != 0 {
        return Err(SockError { op: "getsockname", errno: errno() });
    }
    if sa.family != 2 && sa.family != 10 {
        return Err(SockError { op: "getsockname", errno: 97 }); // EAFNOSUPPORT
    }
    Ok(u16::from_be(sa.port))
}

/// close(2).
#[cfg(target_os = "linux")]
pub fn close_fd(fd: i32) -> Result<(), SockError> {
    if unsafe { sys::close(fd) } != 0 {
        return Err(SockError { op: "close", errno: errno() });
    }
    Ok(())
}

/// listen(2) on an already listening socket: updates its backlog.
#[cfg(target_os = "linux")]
pub fn listen_fd(fd: i32, backlog: i32) -> Result<(), SockError> {
    if unsafe { sys::listen(fd, backlog) } != 0 {
        return Err(SockError { op: "listen", errno: errno() });
    }
    Ok(())
}

/// accept4(2), non-blocking and close-on-exec: `Ok(Some(fd))`, or `Ok(None)` when no connection
/// is waiting (EAGAIN) or the one waiting was aborted (ECONNABORTED).
#[cfg(target_os = "linux")]
pub fn accept_fd(fd: i32) -> Result<Option<i32>, SockError> {
    let r = unsafe { sys::accept4(fd, std::ptr::null_mut(), std::ptr::null_mut(), sys::SOCK_NONBLOCK | sys::SOCK_CLOEXEC) };
    if r >= 0 {
        return Ok(Some(r));
    }
    match errno() {
        11 | 103 => Ok(None), // EAGAIN, ECONNABORTED
        e => Err(SockError { op: "accept4", errno: e }),
    }
}

#[cfg(not(target_os = "linux"))]
pub fn accept_fd(_: i32) -> Result<Option<i32>, SockError> {
    Err(SockError { op: "accept4", errno: 38 })
}

#[cfg(not(target_os = "linux"))]
pub fn listen_fd(_: i32, _: i32) -> Result<(), SockError> {
    Err(SockError { op: "listen", errno: 38 })
}

// Other platforms: the hash functions still work; the socket functions report ENOSYS.
#[cfg(not(target_os = "linux"))]
pub fn reuse_port_socket(_: IpAddr, _: u16, _: bool, _: i32) -> Result<i32, SockError> {
    Err(SockError { op: "socket", errno: 38 })
}
#[cfg(not(target_os = "linux"))]
pub fn local_port(_: i32) -> Result<u16, SockError> {
    Err(SockError { op: "getsockname", errno: 38 })
}
#[cfg(not(target_os = "linux"))]
pub fn close_fd(_: i32) -> Result<(), SockError> {
    Err(SockError { op: "close", errno: 38 })
}

/// The symbolic name of a Linux errno (`EADDRINUSE`), as Node's `err.code` spells it.
pub fn errno_name(e: i32) -> String {
    let name = match e {
        1 => "EPERM",
        9 => "EBADF",
        12 => "ENOMEM",
        13 => "EACCES",
        22 => "EINVAL",
        23 => "ENFILE",
        24 => "EMFILE",
        11 => "EAGAIN",
        38 => "ENOSYS",
        88 => "ENOTSOCK",
        92 => "ENOPROTOOPT",
        93 => "EPROTONOSUPPORT",
        95 => "EOPNOTSUPP",
        97 => "EAFNOSUPPORT",
        98 => "EADDRINUSE",
        99 => "EADDRNOTAVAIL",
        105 => "ENOBUFS",
        _ => return format!("errno {}", e),
    };
    name.to_string()
}
