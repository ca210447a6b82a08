//! Generates the Plan/Snapshot message types from the shared protos with a vendored protoc,
//! so building needs no system protoc.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    std::env::set_var("PROTOC", protoc);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let plan = root.join("loadforge/v1/plan.proto");
    let snapshot = root.join("loadforge/v1/snapshot.proto");
    println!("cargo:rerun-if-changed={}", plan.display());
    println!("cargo:rerun-if-changed={}", snapshot.display());
    prost_build::Config::new().compile_protos(&[plan, snapshot], &[root])?;
    Ok(())
}
