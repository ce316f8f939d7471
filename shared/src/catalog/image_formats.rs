//! The image formats a product image may have, and the check that a file's first bytes are of the
//! format it was declared as. A client chooses the content type when it asks for an upload URL and
//! then sends any bytes it likes; served as that type, bytes of another kind (HTML above all)
//! could be interpreted by a browser as something other than an image.

/// The content types an image may be uploaded as.
pub const CONTENT_TYPES: [&str; 5] = [
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "image/avif",
];

/// How many bytes from the start of a file [`starts_as`] looks at: every signature, and an AVIF
/// file's `ftyp` box with any realistic list of brands.
pub const SIGNATURE_BYTES: u64 = 256;

/// Whether `first` (the first bytes of a file, up to [`SIGNATURE_BYTES`]) starts as a file of
/// `content_type` does. False for any content type not in [`CONTENT_TYPES`].
pub fn starts_as(content_type: &str, first: &[u8]) -> bool {
    match content_type {
        "image/png" => first.starts_with(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" => first.starts_with(&[0xff, 0xd8, 0xff]),
        "image/gif" => first.starts_with(b"GIF87a") || first.starts_with(b"GIF89a"),
        "image/webp" => first.starts_with(b"RIFF") && first.get(8..12) == Some(b"WEBP"),
        "image/avif" => is_avif(first),
        _ => false,
    }
}

/// An AVIF file is an ISO base media file whose first box is `ftyp`: a 4-byte big-endian box
/// size, `ftyp`, the major brand, a minor version, then compatible brands to the end of the box.
/// It is AVIF when `avif` (still image) or `avis` (sequence) is the major or a compatible brand.
fn is_avif(first: &[u8]) -> bool {
    let Some(size) = first.get(0..4) else {
        return false;
    };
    let size = u32::from_be_bytes([size[0], size[1], size[2], size[3]]) as usize;
    if first.get(4..8) != Some(b"ftyp") || size < 16 {
        return false;
    }
    let avif = |brand: &[u8]| brand == b"avif" || brand == b"avis";
    let end = size.min(first.len());
    first.get(8..12).is_some_and(avif)
        || first
            .get(16..end)
            .is_some_and(|brands| brands.chunks_exact(4).any(avif))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let size = 16 + 4 * compatible.len() as u32;
        let mut out = size.to_be_bytes().to_vec();
        out.extend_from_slice(b"ftyp");
        out.extend_from_slice(major);
        out.extend_from_slice(&[0, 0, 0, 0]);
        for brand in compatible {
            out.extend_from_slice(*brand);
        }
        out.extend_from_slice(b"\x00\x00\x00\x08meta");
        out
    }

    #[test]
    fn each_format_is_recognised_by_its_signature() {
        let cases: [(&str, Vec<u8>); 7] = [
            (
                "image/png",
                b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec(),
            ),
            ("image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF".to_vec()),
            ("image/gif", b"GIF89a\x01\x00".to_vec()),
            ("image/gif", b"GIF87a\x01\x00".to_vec()),
            ("image/webp", b"RIFF\x24\x00\x00\x00WEBPVP8 ".to_vec()),
            ("image/avif", ftyp(b"avif", &[b"mif1", b"miaf"])),
            ("image/avif", ftyp(b"avis", &[])),
        ];
        for (content_type, bytes) in cases {
            assert!(starts_as(content_type, &bytes), "{content_type}");
            for other in CONTENT_TYPES.iter().filter(|t| **t != content_type) {
                assert!(
                    !starts_as(other, &bytes),
                    "{content_type} taken for {other}"
                );
            }
        }
    }

    #[test]
    fn avif_may_be_a_compatible_brand_only() {
        assert!(starts_as("image/avif", &ftyp(b"mif1", &[b"miaf", b"avif"])));
        assert!(starts_as("image/avif", &ftyp(b"mif1", &[b"avis"])));
    }

    #[test]
    fn other_iso_media_files_are_not_avif() {
        assert!(!starts_as(
            "image/avif",
            &ftyp(b"heic", &[b"mif1", b"heic"])
        ));
        assert!(!starts_as("image/avif", &ftyp(b"isom", &[b"mp41"])));
        // A brand past the end of the `ftyp` box is some other box's content.
        let mut short_box = ftyp(b"mif1", &[b"miaf"]);
        short_box.extend_from_slice(b"avif");
        assert!(!starts_as("image/avif", &short_box));
        let mut too_small = ftyp(b"avif", &[]);
        too_small[3] = 12;
        assert!(!starts_as("image/avif", &too_small));
    }

    #[test]
    fn markup_and_truncated_files_match_nothing() {
        let html = b"<!doctype html><script>alert(1)</script>";
        let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>";
        for content_type in CONTENT_TYPES {
            assert!(!starts_as(content_type, html), "{content_type}");
            assert!(!starts_as(content_type, svg), "{content_type}");
            assert!(!starts_as(content_type, b""), "{content_type}");
        }
        assert!(!starts_as("image/png", b"\x89PNG\r\n"));
        assert!(!starts_as("image/webp", b"RIFF\x24\x00\x00\x00WAVE"));
        assert!(!starts_as("image/webp", b"RIFF\x24\x00"));
        assert!(!starts_as("image/avif", b"\x00\x00\x00\x18ftyp"));
        assert!(!starts_as("text/html", html));
        assert!(!starts_as("image/svg+xml", svg));
    }
}
