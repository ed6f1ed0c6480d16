//! Embeds every `locales/<tag>/*.ftl` folder and `infra/regions.toml` at build time, so that
//! adding a locale is adding a folder (no code change) and the edge needs no file system.

use std::{env, fmt::Write as _, fs, path::Path};

fn main() {
    // Read when the script runs, not when it is compiled: a target directory shared by two
    // checkouts reuses one compiled script (its hash ignores the checkout's path).
    let manifest_dir = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest_dir).join("..");
    let locales = root.join("locales");
    println!("cargo:rerun-if-changed={}", locales.display());
    println!(
        "cargo:rerun-if-changed={}",
        root.join("infra/regions.toml").display()
    );

    let mut dirs: Vec<_> = fs::read_dir(&locales)
        .expect("locales/ folder")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .collect();
    dirs.sort_by_key(|e| e.file_name());

    let mut out = String::from(
        "/// (tag, [(file name, Fluent source)]) for every folder of `locales/`, sorted by tag.\n",
    );
    out.push_str("pub static EMBEDDED_LOCALES: &[(&str, &[(&str, &str)])] = &[\n");
    for dir in dirs {
        let tag = dir
            .file_name()
            .into_string()
            .expect("utf-8 locale folder name");
        println!("cargo:rerun-if-changed={}", dir.path().display());
        let mut files: Vec<_> = fs::read_dir(dir.path())
            .expect("locale folder")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "ftl"))
            .collect();
        files.sort();
        write!(out, "    ({tag:?}, &[").unwrap();
        for f in files {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            let abs = fs::canonicalize(&f).unwrap();
            write!(
                out,
                "({name:?}, include_str!({:?})), ",
                abs.display().to_string()
            )
            .unwrap();
        }
        out.push_str("]),\n");
    }
    out.push_str("];\n");
    let regions = fs::canonicalize(root.join("infra/regions.toml")).expect("infra/regions.toml");
    writeln!(
        out,
        "/// `infra/regions.toml`, the region map.\npub static EMBEDDED_REGIONS: &str = include_str!({:?});",
        regions.display().to_string()
    )
    .unwrap();
    fs::write(
        Path::new(&env::var("OUT_DIR").unwrap()).join("embedded.rs"),
        out,
    )
    .unwrap();
}
