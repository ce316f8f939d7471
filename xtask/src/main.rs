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
        "keygen" => match std::env::args().nth(2).as_deref() {
            // Staff tokens are RS256 (API Gateway's JWT authorizer verifies only RSA): store the
            // PEM in Secrets Manager and pass the public key as StaffTokenPublicKeys.
            Some("staff") => {
                let (pem, public) = shared::auth::tokens::generate_rsa_key();
                println!("# private key (secret, for Secrets Manager):\n{pem}");
                println!("# public key (StaffTokenPublicKeys):\n{public}");
            }
            // Customer tokens are EdDSA: a seed for Secrets Manager and the public key as
            // CustomerTokenPublicKeys.
            Some("customer") => {
                let seed: [u8; 32] = rand::random();
                println!(
                    "# seed (secret, for Secrets Manager):\n{}",
                    hex::encode(seed)
                );
                println!(
                    "# public key (CustomerTokenPublicKeys):\n{}",
                    shared::auth::tokens::public_key_b64(&seed)
                );
            }
            _ => {
                eprintln!("usage: cargo xtask keygen staff | customer");
                std::process::exit(2);
            }
        },
        _ => {
            eprintln!("usage: cargo xtask codegen | check | keygen staff|customer");
            std::process::exit(2);
        }
    }
}
