use sha1::{Digest, Sha1};

/// Symbols that count as part of a word
/// (specifically, the "Punctuation, Connector" Unicode category)
pub const WORD_SYMBOLS: [char; 10] = ['_', '‿', '⁀', '⁔', '︳', '︴', '﹍', '﹎', '﹏', '＿'];

pub fn full_hash(bytes: &[u8]) -> String {
    let mut hasher = Sha1::new();
    hasher.update(bytes);
    // impala-awards patch 17: the same digits (`{:x?}`, unpadded) written
    // into one string instead of a string per byte.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(40);
    for &b in hasher.finalize().iter() {
        if b >= 16 {
            hex.push(char::from(DIGITS[usize::from(b >> 4)]));
        }
        hex.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    hex
}
