//! `cargo xtask codegen` writes every generated file; `cargo xtask check` fails if one is stale.

use std::path::Path;

fn main() {
    let command = std::env::args().nth(1).unwrap_or_default();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_owned();
    match command.as_str() {
        "codegen" => {
            let written = xtask::write_all(&root).expect("write generated files");
            println!("{written} generated files written");
        }
        "check" => {
            let stale = xtask::stale(&root);
            if stale.is_empty() {
                println!("generated files are current");
            } else {
                eprintln!("stale generated files (run `cargo xtask codegen`):");
                for path in stale {
                    eprintln!("  {path}");
                }
                std::process::exit(1);
            }
        }
        "keygen" => {
            // A token signing seed for a deployment: store the seed in Secrets Manager and pass
            // the public key as the StaffTokenPublicKeys (or CustomerTokenPublicKeys) parameter;
            // run it once for staff tokens and once for customer tokens (docs/operations.md).
            let seed: [u8; 32] = rand::random();
            println!("seed (secret, for Secrets Manager): {}", hex::encode(seed));
            println!(
                "public key (StaffTokenPublicKeys or CustomerTokenPublicKeys): {}",
                shared::auth::tokens::public_key_b64(&seed)
            );
        }
        _ => {
            eprintln!("usage: cargo xtask codegen | check | keygen");
            std::process::exit(2);
        }
    }
}
