//! The endpoint's own session ids: a lease id never names the driver's session, so a client
//! holding a stale one can reach nothing.

use std::sync::atomic::Ordering;

/// 128 bits in hex from the standard library's randomly seeded hash keys and a counter: unique
/// in this process (the pool also checks), hard to guess, not a secret.
pub(crate) fn random() -> String {
    use std::hash::BuildHasher;
    use std::sync::atomic::AtomicU64;
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let a = std::collections::hash_map::RandomState::new().hash_one(n);
    let b = std::collections::hash_map::RandomState::new().hash_one(n);
    format!("{a:016x}{b:016x}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_32_hex_digits_and_differ() {
        let (a, b) = (super::random(), super::random());
        assert_ne!(a, b);
        assert!(
            a.len() == 32 && a.chars().all(|c| c.is_ascii_hexdigit()),
            "{a}"
        );
    }
}
