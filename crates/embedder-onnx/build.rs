//! Compiles the libjpeg shim (`src/jpeg.c`: JPEG decoding straight to BGR) and links the
//! system's libjpeg-turbo (Debian: `libjpeg62-turbo-dev`, already OpenCV's JPEG library).

fn main() {
    println!("cargo:rerun-if-changed=src/jpeg.c");
    cc::Build::new()
        .file("src/jpeg.c")
        .warnings(true)
        .flag_if_supported("-Wextra")
        .opt_level(2)
        .compile("facepass_jpeg");
    println!("cargo:rustc-link-lib=jpeg");
}
