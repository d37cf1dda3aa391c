//! Generates the filter wire types from `proto/` with prost, using protox as
//! the protobuf compiler so that no system `protoc` is needed. `WakuMessage`
//! is the one generated in waku-core.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Read when the script runs, not when it is compiled: a build script
    // binary reused from another checkout must not read that checkout.
    let proto_root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let file = proto_root.join("waku/filter/v2/filter.proto");
    println!("cargo:rerun-if-changed={}", file.display());
    println!(
        "cargo:rerun-if-changed={}",
        proto_root.join("waku/message/v1/message.proto").display()
    );
    let descriptors = protox::compile([&file], [&proto_root])?;
    prost_build::Config::new()
        .extern_path(".waku.message.v1", "::waku_core::proto::message::v1")
        .compile_fds(descriptors)?;
    Ok(())
}
