//! Exact merges: the sum of N histograms equals one histogram that saw every value, also
//! after a round trip through the V2 encoding.

use loadforge_core::Histogram;

#[test]
fn merged_parts_equal_one_histogram_of_all_values() {
    let mut rng = fastrand::Rng::with_seed(7);
    let mut all = Histogram::new();
    let mut parts: Vec<Histogram> = (0..8).map(|_| Histogram::new()).collect();
    for i in 0..200_000u64 {
        // Log-uniform from 1 µs to ~1 hour, so every bucket range is exercised.
        let v = (10f64.powf(rng.f64() * 9.5)) as u64 + 1;
        all.record(v);
        parts[(i % 8) as usize].record(v);
    }
    let mut merged = Histogram::new();
    for p in &parts {
        let wire = Histogram::decode(&p.encode()).unwrap();
        merged.add(&wire).unwrap();
    }
    assert_eq!(merged, all);
    assert_eq!(merged.count(), 200_000);
    for q in [50.0, 90.0, 99.0, 99.9, 99.99, 100.0] {
        assert_eq!(merged.value_at_percentile(q), all.value_at_percentile(q));
    }
    assert_eq!(merged.encode(), all.encode());
}

#[test]
fn values_beyond_one_hour_are_clamped_not_lost() {
    let mut h = Histogram::new();
    h.record(10_000_000_000);
    h.record_n(5, 3);
    assert_eq!(h.count(), 4);
    assert!(h.max() >= 3_600_000_000 && h.max() < 3_700_000_000);
}

#[test]
fn garbage_is_an_error() {
    assert!(Histogram::decode(b"not a histogram").is_err());
}
