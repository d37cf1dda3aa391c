#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Decoding Waku ENR text: a plain record and one with multiaddrs and `rs`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use waku_enr::WakuEnr;

/// js-waku: ip, tcp, udp, waku2 (148 bytes).
const TYPICAL: &str = "enr:-JK4QJtF6meGMBjM_a6HISdmmPFtrywWswz-6uAX2CL4LGr9YJ53tU1OsDxDkbr1LmiAMN_qDizzYd7rDAGp6EU9oyoFgmlkgnY0gmlwhH8AAAGJc2VjcDI1NmsxoQJ5vmZ--dy7rFWgYpXOhwsHApv82y3OKNlZ8oFbFvgXmIN0Y3CC6mCDdWRwgiMohXdha3UyAQ";

/// nwaku sandbox fleet: ip, tcp, udp, waku2, two dns4 multiaddrs, rs with 8 shards (295 bytes).
const WITH_MULTIADDRS_AND_RS: &str = "enr:-QEkuEB3WHNS-xA3RDpfu9A2Qycr3bN3u7VoArMEiDIFZJ66F1EB3d4wxZN1hcdcOX-RfuXB-MQauhJGQbpz3qUofOtLAYJpZIJ2NIJpcIQI2SVcim11bHRpYWRkcnO4bgA0Ni9ub2RlLTAxLmFjLWNuLWhvbmdrb25nLWMud2FrdS5zYW5kYm94LnN0YXR1cy5pbQZ2XwA2Ni9ub2RlLTAxLmFjLWNuLWhvbmdrb25nLWMud2FrdS5zYW5kYm94LnN0YXR1cy5pbQYfQN4DgnJzkwABCAAAAAEAAgADAAQABQAGAAeJc2VjcDI1NmsxoQPK35Nnz0cWUtSAhBp7zvHEhyU_AqeQUlqzLiLxfP2L4oN0Y3CCdl-DdWRwgiMohXdha3UyDw";

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("enr_decode");
    group.bench_function("typical", |b| {
        b.iter(|| WakuEnr::decode(black_box(TYPICAL)).unwrap())
    });
    group.bench_function("multiaddrs_and_rs", |b| {
        b.iter(|| WakuEnr::decode(black_box(WITH_MULTIADDRS_AND_RS)).unwrap())
    });
    let record = WakuEnr::decode(WITH_MULTIADDRS_AND_RS).unwrap();
    group.bench_function("dial_addresses", |b| {
        b.iter(|| black_box(&record).dial_addresses())
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
