//! Links the function binaries as fixed-address executables on Linux. A position-independent
//! executable carries a load-time relocation for every pointer in its data: about 1.1 MB per
//! function, which the dynamic loader also processes at every cold start. Packed relocations would
//! shrink them but need glibc 2.36, newer than Lambda's `provided.al2023`. Only these binaries are
//! affected (not libraries, tests or the sandbox). The heap, stack and shared libraries of a fixed
//! executable are still randomised, and each function runs alone in its microVM.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
