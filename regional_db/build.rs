//! Embeds `migrations/{control,tenant}/*.sql` in the binary, so a deployed `regional-db`
//! carries exactly the schema it was built for and adding a migration is adding a file.

use std::{env, fmt::Write as _, fs, path::Path};

fn main() {
    // Read when the script runs, not when it is compiled: a target directory shared by two
    // checkouts reuses one compiled script (its hash ignores the checkout's path).
    let manifest_dir = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest_dir).join("migrations");
    let mut out = String::new();
    for (set, konst) in [("control", "CONTROL"), ("tenant", "TENANT")] {
        let dir = root.join(set);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<_> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .collect();
        files.sort();
        writeln!(out, "pub(crate) static {konst}: &[Migration] = &[").unwrap();
        for f in files {
            let stem = f
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("utf-8 migration name");
            let number: u32 = stem
                .split('_')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| {
                    panic!("migration {stem} must start with its number, e.g. 0002_")
                });
            writeln!(
                out,
                "    Migration {{ number: {number}, name: {stem:?}, sql: include_str!({:?}) }},",
                f.display().to_string()
            )
            .unwrap();
        }
        out.push_str("];\n");
    }
    fs::write(
        Path::new(&env::var("OUT_DIR").unwrap()).join("migrations.rs"),
        out,
    )
    .unwrap();
}
