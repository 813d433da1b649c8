//! attache's optional Node-API addon, with no crate dependencies (see napi.rs).
//!
//! JS API (loaded by src/native/index.ts, never required):
//! - `reusePortSocket(address: string, port: number, listen: boolean, backlog: number): number`
//! - `localPort(fd: number): number`, `closeFd(fd: number): void`
//! - `xxhash64(data: Uint8Array | string, seed?: number | bigint): bigint`
//! - `xxhash64Into(data, seed: number | bigint | undefined, out: Uint32Array): void` writes [lo, hi]
//! - `xxhash64Lo32(data, seed?): number` low 32 bits, unsigned
//! - `xxhash64Mod(data, seed, modulus: number): number` exact `hash % modulus` (modulus 1..2^32-1)
//! Strings hash as their UTF-8 bytes. Errors are thrown as JS errors whose `code` is the errno name.

mod napi;
mod socket;
mod xxh64;

use napi::*;
use std::ffi::CString;
use std::net::IpAddr;
use std::os::raw::{c_char, c_void};
use std::ptr::null_mut;

unsafe fn throw(env: napi_env, kind: u8, code: &str, msg: &str) -> napi_value {
    let c = CString::new(code.replace('\0', "")).unwrap_or_default();
    let m = CString::new(msg.replace('\0', "\\0")).unwrap_or_default();
    match kind {
        b't' => napi_throw_type_error(env, c.as_ptr(), m.as_ptr()),
        b'r' => napi_throw_range_error(env, c.as_ptr(), m.as_ptr()),
        _ => napi_throw_error(env, c.as_ptr(), m.as_ptr()),
    };
    null_mut()
}

unsafe fn args<const N: usize>(env: napi_env, info: napi_callback_info) -> ([napi_value; N], usize) {
    let mut argv: [napi_value; N] = [null_mut(); N];
    let mut argc = N;
    napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), null_mut(), null_mut());
    (argv, argc)
}

unsafe fn type_of(env: napi_env, v: napi_value) -> i32 {
    let mut t = NAPI_UNDEFINED;
    if v.is_null() || napi_typeof(env, v, &mut t) != NAPI_OK {
        return NAPI_UNDEFINED;
    }
    t
}

unsafe fn undefined(env: napi_env) -> napi_value {
    let mut r = null_mut();
    napi_get_undefined(env, &mut r);
    r
}

/// Bytes of a string (UTF-8) or Uint8Array/Buffer argument. Short strings go through `stack`.
unsafe fn with_bytes<R>(env: napi_env, v: napi_value, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
    match type_of(env, v) {
        NAPI_STRING => {
            let mut stack = [0u8; 256];
            let mut n = 0usize;
            napi_get_value_string_utf8(env, v, stack.as_mut_ptr() as *mut c_char, stack.len(), &mut n);
            // A UTF-8 sequence is at most 4 bytes: if 4+ bytes are left over, nothing was truncated.
            if n + 4 < stack.len() {
                return Some(f(&stack[..n]));
            }
            napi_get_value_string_utf8(env, v, null_mut(), 0, &mut n);
            let mut heap = vec![0u8; n + 1];
            napi_get_value_string_utf8(env, v, heap.as_mut_ptr() as *mut c_char, n + 1, &mut n);
            Some(f(&heap[..n]))
        }
        NAPI_OBJECT => {
            // Fails with napi_invalid_arg (no exception) when `v` is not a typed array.
            let (mut kind, mut len, mut data) = (-1i32, 0usize, null_mut::<c_void>());
            let st = napi_get_typedarray_info(env, v, &mut kind, &mut len, &mut data, null_mut(), null_mut());
            if st != NAPI_OK || kind != NAPI_UINT8_ARRAY {
                return None;
            }
            if len == 0 || data.is_null() {
                return Some(f(&[]));
            }
            Some(f(std::slice::from_raw_parts(data as *const u8, len)))
        }
        _ => None,
    }
}

/// Seed argument: undefined → 0, a non-negative integer number, or a bigint (taken mod 2^64).
unsafe fn seed_of(env: napi_env, v: napi_value) -> Option<u64> {
    match type_of(env, v) {
        NAPI_UNDEFINED => Some(0),
        NAPI_NUMBER => {
            let mut d = 0f64;
            napi_get_value_double(env, v, &mut d);
            if d >= 0.0 && d <= 9007199254740991.0 && d.fract() == 0.0 {
                Some(d as u64)
            } else {
                None
            }
        }
        NAPI_BIGINT => {
            let (mut x, mut lossless) = (0u64, false);
            napi_get_value_bigint_uint64(env, v, &mut x, &mut lossless);
            Some(x)
        }
        _ => None,
    }
}

const BAD_DATA: &str = "data must be a string or a Uint8Array/Buffer";
const BAD_SEED: &str = "seed must be a non-negative safe integer or a bigint";

unsafe fn hash_args(env: napi_env, data: napi_value, seed: napi_value) -> Result<u64, napi_value> {
    let s = match seed_of(env, seed) {
        Some(s) => s,
        None => return Err(throw(env, b't', "ERR_INVALID_ARG_TYPE", BAD_SEED)),
    };
    match with_bytes(env, data, |b| xxh64::xxh64(b, s)) {
        Some(h) => Ok(h),
        None => Err(throw(env, b't', "ERR_INVALID_ARG_TYPE", BAD_DATA)),
    }
}

unsafe extern "C" fn js_xxhash64(env: napi_env, info: napi_callback_info) -> napi_value {
    let (a, _) = args::<2>(env, info);
    match hash_args(env, a[0], a[1]) {
        Ok(h) => {
            let mut r = null_mut();
            napi_create_bigint_uint64(env, h, &mut r);
            r
        }
        Err(e) => e,
    }
}

unsafe extern "C" fn js_xxhash64_lo32(env: napi_env, info: napi_callback_info) -> napi_value {
    let (a, _) = args::<2>(env, info);
    match hash_args(env, a[0], a[1]) {
        Ok(h) => {
            let mut r = null_mut();
            napi_create_uint32(env, h as u32, &mut r);
            r
        }
        Err(e) => e,
    }
}

unsafe extern "C" fn js_xxhash64_mod(env: napi_env, info: napi_callback_info) -> napi_value {
    let (a, _) = args::<3>(env, info);
    let mut m = 0f64;
    if type_of(env, a[2]) != NAPI_NUMBER || {
        napi_get_value_double(env, a[2], &mut m);
        !(m >= 1.0 && m <= 4294967295.0 && m.fract() == 0.0)
    } {
        return throw(env, b'r', "ERR_OUT_OF_RANGE", "modulus must be an integer in [1, 2^32-1]");
    }
    match hash_args(env, a[0], a[1]) {
        Ok(h) => {
            let mut r = null_mut();
            napi_create_uint32(env, (h % (m as u64)) as u32, &mut r);
            r
        }
        Err(e) => e,
    }
}

unsafe extern "C" fn js_xxhash64_into(env: napi_env, info: napi_callback_info) -> napi_value {
    let (a, _) = args::<3>(env, info);
    let (mut kind, mut len, mut data) = (-1i32, 0usize, null_mut::<c_void>());
    let st = if a[2].is_null() {
        1
    } else {
        napi_get_typedarray_info(env, a[2], &mut kind, &mut len, &mut data, null_mut(), null_mut())
    };
    if st != NAPI_OK || kind != NAPI_UINT32_ARRAY || len < 2 {
        return throw(env, b't', "ERR_INVALID_ARG_TYPE", "out must be a Uint32Array of length >= 2");
    }
    match hash_args(env, a[0], a[1]) {
        Ok(h) => {
            let out = data as *mut u32;
            *out = h as u32;
            *out.add(1) = (h >> 32) as u32;
            undefined(env)
        }
        Err(e) => e,
    }
}

unsafe fn int_arg(env: napi_env, v: napi_value, min: f64, max: f64) -> Option<f64> {
    if type_of(env, v) != NAPI_NUMBER {
        return None;
    }
    let mut d = 0f64;
    napi_get_value_double(env, v, &mut d);
    if d >= min && d <= max && d.fract() == 0.0 {
        Some(d)
    } else {
        None
    }
}

unsafe fn sock_error(env: napi_env, e: socket::SockError, what: &str) -> napi_value {
    let name = socket::errno_name(e.errno);
    throw(env, b'e', &name, &format!("{} {}: {}", e.op, what, name))
}

unsafe extern "C" fn js_reuse_port_socket(env: napi_env, info: napi_callback_info) -> napi_value {
    let (a, _) = args::<4>(env, info);
    let mut buf = [0u8; 64];
    let mut n = 0usize;
    if type_of(env, a[0]) != NAPI_STRING {
        return throw(env, b't', "ERR_INVALID_ARG_TYPE", "address must be a string");
    }
    napi_get_value_string_utf8(env, a[0], buf.as_mut_ptr() as *mut c_char, buf.len(), &mut n);
    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
    let bare = text.trim_start_matches('[').trim_end_matches(']');
    let addr: IpAddr = match bare.parse() {
        Ok(ip) if n + 4 < buf.len() => ip,
        _ => return throw(env, b't', "ERR_INVALID_IP_ADDRESS", &format!("invalid IP address: {}", text)),
    };
    let port = match int_arg(env, a[1], 0.0, 65535.0) {
        Some(p) => p as u16,
        None => return throw(env, b'r', "ERR_SOCKET_BAD_PORT", "port must be an integer in [0, 65535]"),
    };
    let mut listen = false;
    if napi_get_value_bool(env, a[2], &mut listen) != NAPI_OK {
        return throw(env, b't', "ERR_INVALID_ARG_TYPE", "listen must be a boolean");
    }
    let backlog = match int_arg(env, a[3], 0.0, 2147483647.0) {
        Some(b) => b as i32,
        None => return throw(env, b'r', "ERR_OUT_OF_RANGE", "backlog must be an integer >= 0"),
    };
    match socket::reuse_port_socket(addr, port, listen, backlog) {
        Ok(fd) => {
            let mut r = null_mut();
            napi_create_int32(env, fd, &mut r);
            r
        }
        Err(e) => {
            let what = if addr.is_ipv6() { format!("[{}]:{}", addr, port) } else { format!("{}:{}", addr, port) };
            sock_error(env, e, &what)
        }
    }
}

unsafe fn fd_arg(env: napi_env, info: napi_callback_info) -> Result<i32, napi_value> {
    let (a, _) = args::<1>(env, info);
    match int_arg(env, a[0], 0.0, 2147483647.0) {
        Some(fd) => Ok(fd as i32),
        None => Err(throw(env, b'r', "ERR_OUT_OF_RANGE", "fd must be a non-negative integer")),
    }
}

unsafe extern "C" fn js_local_port(env: napi_env, info: napi_callback_info) -> napi_value {
    let fd = match fd_arg(env, info) {
        Ok(fd) => fd,
        Err(e) => return e,
    };
    match socket::local_port(fd) {
        Ok(p) => {
            let mut r = null_mut();
            napi_create_uint32(env, p as u32, &mut r);
            r
        }
        Err(e) => sock_error(env, e, &format!("fd {}", fd)),
    }
}

unsafe extern "C" fn js_close_fd(env: napi_env, info: napi_callback_info) -> napi_value {
    let fd = match fd_arg(env, info) {
        Ok(fd) => fd,
        Err(e) => return e,
    };
    match socket::close_fd(fd) {
        Ok(()) => undefined(env),
        Err(e) => sock_error(env, e, &format!("fd {}", fd)),
    }
}

/// `listenFd(fd, backlog)`: listen(2) again on a listening socket to set its accept queue length.
/// Node's `server.listen({fd})` calls listen with its default backlog (511) and ignores the option.
unsafe extern "C" fn js_listen_fd(env: napi_env, info: napi_callback_info) -> napi_value {
    let (a, _) = args::<2>(env, info);
    let fd = match int_arg(env, a[0], 0.0, 2147483647.0) {
        Some(fd) => fd as i32,
        None => return throw(env, b'r', "ERR_OUT_OF_RANGE", "fd must be a non-negative integer"),
    };
    let backlog = match int_arg(env, a[1], 1.0, 65535.0) {
        Some(b) => b as i32,
        None => return throw(env, b'r', "ERR_OUT_OF_RANGE", "backlog must be an integer in 1..65535"),
    };
    match socket::listen_fd(fd, backlog) {
        Ok(()) => undefined(env),
        Err(e) => sock_error(env, e, &format!("fd {}", fd)),
    }
}

/// `acceptFd(fd)`: accepts one waiting connection on a listening socket (non-blocking):
/// returns its fd, or -1 when none is waiting. libuv (≥ 1.45) accepts one connection per event
/// loop iteration; the listener drains the rest of the queue with this, as Envoy does.
unsafe extern "C" fn js_accept_fd(env: napi_env, info: napi_callback_info) -> napi_value {
    let fd = match fd_arg(env, info) {
        Ok(fd) => fd,
        Err(e) => return e,
    };
    match socket::accept_fd(fd) {
        Ok(r) => {
            let mut v = null_mut();
            napi_create_int32(env, r.unwrap_or(-1), &mut v);
            v
        }
        Err(e) => sock_error(env, e, &format!("fd {}", fd)),
    }
}

/// `mallocTrim()`: glibc's `malloc_trim(0)` (returns free heap pages of every arena to the
/// kernel). Looked up with dlsym so the addon still loads on a libc without it (musl): then it
/// returns false and does nothing.
unsafe extern "C" fn js_malloc_trim(env: napi_env, _info: napi_callback_info) -> napi_value {
    extern "C" {
        fn dlsym(handle: *mut std::os::raw::c_void, symbol: *const c_char) -> *mut std::os::raw::c_void;
    }
    let f = dlsym(null_mut(), b"malloc_trim\0".as_ptr() as *const c_char);
    let mut done = false;
    if !f.is_null() {
        let trim: unsafe extern "C" fn(usize) -> i32 = std::mem::transmute(f);
        trim(0);
        done = true;
    }
    let mut r = null_mut();
    napi_get_boolean(env, done, &mut r);
    r
}

/// `mallocArenaMax(n)`: glibc's `mallopt(M_ARENA_MAX, n)`: at most `n` malloc arenas for the
/// threads created from now on (glibc otherwise gives each new thread its own, up to 8 per core,
/// and freed memory stays spread over them). Looked up with dlsym like malloc_trim; returns false
/// when the libc has no mallopt or refuses the value.
unsafe extern "C" fn js_malloc_arena_max(env: napi_env, info: napi_callback_info) -> napi_value {
    extern "C" {
        fn dlsym(handle: *mut std::os::raw::c_void, symbol: *const c_char) -> *mut std::os::raw::c_void;
    }
    const M_ARENA_MAX: i32 = -8;
    let mut argc: usize = 1;
    let mut argv = [null_mut(); 1];
    napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), null_mut(), null_mut());
    let mut n: i32 = 0;
    let ok_arg = argc >= 1 && napi_get_value_int32(env, argv[0], &mut n) == 0 && n > 0;
    let f = dlsym(null_mut(), b"mallopt\0".as_ptr() as *const c_char);
    let mut done = false;
    if ok_arg && !f.is_null() {
        let mallopt: unsafe extern "C" fn(i32, i32) -> i32 = std::mem::transmute(f);
        done = mallopt(M_ARENA_MAX, n) == 1;
    }
    let mut r = null_mut();
    napi_get_boolean(env, done, &mut r);
    r
}

fn method(
    name: &'static [u8],
    f: unsafe extern "C" fn(napi_env, napi_callback_info) -> napi_value,
) -> napi_property_descriptor {
    napi_property_descriptor {
        utf8name: name.as_ptr() as *const c_char,
        name: null_mut(),
        method: Some(f),
        getter: None,
        setter: None,
        value: null_mut(),
        attributes: NAPI_ENUMERABLE,
        data: null_mut(),
    }
}

/// Module entry point: node looks this symbol up when it loads the .node file (in every thread).
#[no_mangle]
pub unsafe extern "C" fn napi_register_module_v1(env: napi_env, exports: napi_value) -> napi_value {
    let props = [
        method(b"reusePortSocket\0", js_reuse_port_socket),
        method(b"localPort\0", js_local_port),
        method(b"closeFd\0", js_close_fd),
        method(b"listenFd\0", js_listen_fd),
        method(b"acceptFd\0", js_accept_fd),
        method(b"mallocTrim\0", js_malloc_trim),
        method(b"mallocArenaMax\0", js_malloc_arena_max),
        method(b"xxhash64\0", js_xxhash64),
        method(b"xxhash64Into\0", js_xxhash64_into),
        method(b"xxhash64Lo32\0", js_xxhash64_lo32),
        method(b"xxhash64Mod\0", js_xxhash64_mod),
    ];
    napi_define_properties(env, exports, props.len(), props.as_ptr());
    exports
}

/// Node-API version this addon is written against.
#[no_mangle]
pub extern "C" fn node_api_module_get_api_version_v1() -> i32 {
    8
}
