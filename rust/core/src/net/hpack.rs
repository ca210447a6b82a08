//! An HPACK decoder (RFC 7541) for response header blocks: static and dynamic tables,
//! Huffman-coded strings, table size updates. Headers are handed to a callback as byte
//! slices; strings are decoded into reused buffers, so a block costs no allocation
//! unless it adds to the dynamic table.
//!
//! The Huffman code is canonical, so it is rebuilt from its code lengths (Appendix B)
//! alone: an 8-bit lookup for the short codes that most text uses, then one comparison
//! per code length for the rest.

use std::collections::VecDeque;
use std::sync::OnceLock;

/// Why a header block could not be decoded (a connection error).
#[derive(Debug, PartialEq, Eq)]
pub struct HpackError(pub &'static str);

/// The dynamic table size we allow (the protocol's default; we never advertise another).
const MAX_TABLE_SIZE: usize = 4096;
/// Bytes each dynamic table entry counts beyond its name and value (RFC 7541 4.1).
const ENTRY_OVERHEAD: usize = 32;

/// A dynamic table entry: name and value.
type Entry = (Box<[u8]>, Box<[u8]>);

/// A connection's decoding state.
pub struct Decoder {
    table: VecDeque<Entry>,
    size: usize,
    max_size: usize,
    name_buf: Vec<u8>,
    value_buf: Vec<u8>,
}

impl Default for Decoder {
    fn default() -> Self {
        Self {
            table: VecDeque::new(),
            size: 0,
            max_size: MAX_TABLE_SIZE,
            name_buf: Vec::new(),
            value_buf: Vec::new(),
        }
    }
}

/// Where a literal's name comes from.
enum Name {
    Indexed(usize),
    Literal,
}

impl Decoder {
    /// Decodes one complete header block, calling `f(name, value)` for each field.
    pub fn decode(
        &mut self,
        block: &[u8],
        mut f: impl FnMut(&[u8], &[u8]),
    ) -> Result<(), HpackError> {
        let mut pos = 0;
        while pos < block.len() {
            let first = block[pos];
            if first & 0x80 != 0 {
                let index = integer(block, &mut pos, 7)?;
                let (name, value) = self.entry(index)?;
                f(name, value);
            } else if first & 0xc0 == 0x40 {
                let index = integer(block, &mut pos, 6)?;
                let name = if index == 0 {
                    Name::Literal
                } else {
                    Name::Indexed(index)
                };
                self.literal(block, &mut pos, name, true, &mut f)?;
            } else if first & 0xe0 == 0x20 {
                let size = integer(block, &mut pos, 5)?;
                if size > MAX_TABLE_SIZE {
                    return Err(HpackError("table size update beyond the allowed size"));
                }
                self.max_size = size;
                self.evict(0);
            } else {
                // 0000xxxx without indexing, 0001xxxx never indexed: the same to us.
                let index = integer(block, &mut pos, 4)?;
                let name = if index == 0 {
                    Name::Literal
                } else {
                    Name::Indexed(index)
                };
                self.literal(block, &mut pos, name, false, &mut f)?;
            }
        }
        Ok(())
    }

    fn literal(
        &mut self,
        block: &[u8],
        pos: &mut usize,
        name: Name,
        index: bool,
        f: &mut impl FnMut(&[u8], &[u8]),
    ) -> Result<(), HpackError> {
        let mut name_buf = std::mem::take(&mut self.name_buf);
        let mut value_buf = std::mem::take(&mut self.value_buf);
        let result = (|| {
            let name: &[u8] = match name {
                Name::Indexed(i) => {
                    name_buf.clear();
                    name_buf.extend_from_slice(self.entry(i)?.0);
                    &name_buf
                }
                Name::Literal => string(block, pos, &mut name_buf)?,
            };
            let value = string(block, pos, &mut value_buf)?;
            f(name, value);
            if index {
                let entry = (Box::<[u8]>::from(name), Box::<[u8]>::from(value));
                self.insert(entry);
            }
            Ok(())
        })();
        self.name_buf = name_buf;
        self.value_buf = value_buf;
        result
    }

    fn entry(&self, index: usize) -> Result<(&[u8], &[u8]), HpackError> {
        if index == 0 {
            return Err(HpackError("index 0"));
        }
        if index <= STATIC.len() {
            let (name, value) = STATIC[index - 1];
            return Ok((name.as_bytes(), value.as_bytes()));
        }
        self.table
            .get(index - STATIC.len() - 1)
            .map(|(n, v)| (&n[..], &v[..]))
            .ok_or(HpackError("index beyond the dynamic table"))
    }

    fn insert(&mut self, entry: Entry) {
        let size = entry.0.len() + entry.1.len() + ENTRY_OVERHEAD;
        if size > self.max_size {
            // An entry larger than the table empties it and is not added.
            self.table.clear();
            self.size = 0;
            return;
        }
        self.evict(size);
        self.size += size;
        self.table.push_front(entry);
    }

    /// Drops the oldest entries until `room` more bytes fit.
    fn evict(&mut self, room: usize) {
        while self.size + room > self.max_size {
            let Some((n, v)) = self.table.pop_back() else {
                break;
            };
            self.size -= n.len() + v.len() + ENTRY_OVERHEAD;
        }
    }
}

/// An integer with an `prefix`-bit prefix starting at `block[*pos]`.
fn integer(block: &[u8], pos: &mut usize, prefix: u32) -> Result<usize, HpackError> {
    let max = (1usize << prefix) - 1;
    let mut value = (block[*pos] as usize) & max;
    *pos += 1;
    if value < max {
        return Ok(value);
    }
    let mut shift = 0;
    loop {
        let byte = *block.get(*pos).ok_or(HpackError("truncated integer"))?;
        *pos += 1;
        value += ((byte & 0x7f) as usize) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
        shift += 7;
        if shift > 28 {
            return Err(HpackError("integer too large"));
        }
    }
}

/// A string literal: raw bytes are borrowed from the block, Huffman ones decoded into
/// `buf`.
fn string<'a>(
    block: &'a [u8],
    pos: &mut usize,
    buf: &'a mut Vec<u8>,
) -> Result<&'a [u8], HpackError> {
    let huffman = block.get(*pos).ok_or(HpackError("truncated string"))? & 0x80 != 0;
    let len = integer(block, pos, 7)?;
    let raw = block
        .get(*pos..*pos + len)
        .ok_or(HpackError("string beyond the block"))?;
    *pos += len;
    if !huffman {
        return Ok(raw);
    }
    buf.clear();
    huffman_decode(raw, buf)?;
    Ok(buf)
}

/// The Huffman code, rebuilt from its code lengths.
struct Code {
    /// By the next 8 bits: (symbol, length) for codes of at most 8 bits, length 0 else.
    fast: [(u16, u8); 256],
    /// Per length L: the exclusive upper bound, left-justified in 32 bits, of the codes
    /// of length <= L.
    limit: [u64; 31],
    /// Per length: its first code and that code's place in `symbols`.
    first: [u32; 31],
    offset: [u16; 31],
    /// Symbols ordered by (length, symbol): canonical code order.
    symbols: [u16; 257],
}

fn code() -> &'static Code {
    static CODE: OnceLock<Code> = OnceLock::new();
    CODE.get_or_init(|| {
        let mut symbols = [0u16; 257];
        for (i, s) in symbols.iter_mut().enumerate() {
            *s = i as u16;
        }
        symbols.sort_by_key(|&s| (HUFFMAN_LENGTHS[s as usize], s));
        let mut fast = [(0u16, 0u8); 256];
        let mut limit = [0u64; 31];
        let mut first = [0u32; 31];
        let mut offset = [0u16; 31];
        let mut seen = [false; 31];
        let mut code: u32 = 0;
        let mut previous_len = 0u32;
        for (k, &symbol) in symbols.iter().enumerate() {
            let len = HUFFMAN_LENGTHS[symbol as usize] as u32;
            if k > 0 {
                code = (code + 1) << (len - previous_len);
            }
            previous_len = len;
            let l = len as usize;
            if !seen[l] {
                seen[l] = true;
                first[l] = code;
                offset[l] = k as u16;
            }
            limit[l] = ((code as u64) + 1) << (32 - len);
            if len <= 8 {
                let base = (code << (8 - len)) as usize;
                for slot in &mut fast[base..base + (1 << (8 - len))] {
                    *slot = (symbol, len as u8);
                }
            }
        }
        for l in 1..31 {
            if !seen[l] {
                limit[l] = limit[l - 1];
            }
        }
        Code {
            fast,
            limit,
            first,
            offset,
            symbols,
        }
    })
}

/// Decodes a Huffman-coded string (RFC 7541 5.2) onto `out`.
pub fn huffman_decode(input: &[u8], out: &mut Vec<u8>) -> Result<(), HpackError> {
    let code = code();
    let mut acc: u64 = 0; // unread bits, left-justified
    let mut bits: u32 = 0;
    let mut next = 0;
    loop {
        while bits <= 56 && next < input.len() {
            acc |= (input[next] as u64) << (56 - bits);
            bits += 8;
            next += 1;
        }
        if bits == 0 {
            return Ok(());
        }
        // The next 32 bits; past the end, ones (the padding is EOS's prefix).
        let mut window = (acc >> 32) as u32;
        if bits < 32 {
            window |= u32::MAX >> bits;
        }
        let (symbol, len) = match code.fast[(window >> 24) as usize] {
            (symbol, len) if len != 0 => (symbol, len as u32),
            _ => {
                let len = (9..31)
                    .find(|&l| (window as u64) < code.limit[l])
                    .ok_or(HpackError("invalid Huffman code"))?;
                let index = code.offset[len] as u32 + ((window >> (32 - len)) - code.first[len]);
                (code.symbols[index as usize], len as u32)
            }
        };
        if len > bits {
            // Only padding is left: fewer than 8 bits, all ones.
            let rest = (acc >> (64 - bits)) as u32;
            if bits > 7 || rest != (1 << bits) - 1 {
                return Err(HpackError("invalid Huffman padding"));
            }
            return Ok(());
        }
        if symbol == 256 {
            return Err(HpackError("EOS inside a Huffman string"));
        }
        out.push(symbol as u8);
        acc <<= len;
        bits -= len;
    }
}

/// A connection's request encoder. Each template's fields go out as literals with
/// incremental indexing the first time, so the server keeps them in its dynamic table,
/// and as one-byte table references after that: the server parses a few bytes per
/// request instead of every header again. The encoded block is cached per template and
/// reused for as long as the table has not changed (no insertion since), which in a
/// steady run is always: sending a request costs one lookup.
pub struct Encoder {
    /// Insertions so far; entry `seq` is at dynamic index `inserted - seq` (1-based).
    inserted: u64,
    /// The table, oldest first: (name NUL value, size, seq).
    entries: VecDeque<(Box<[u8]>, usize, u64)>,
    by_field: std::collections::HashMap<Box<[u8]>, u64>,
    size: usize,
    max_size: usize,
    /// A size change to announce at the start of the next block.
    size_update: Option<usize>,
    /// template id -> (`inserted` when encoded, block).
    blocks: std::collections::HashMap<u64, (u64, Box<[u8]>)>,
    /// The last block that inserted into the table (sent once, not cached).
    uncached: Box<[u8]>,
    key: Vec<u8>,
}

/// Blocks cached per connection at most (a scenario with endless distinct URLs must not
/// grow it without bound).
const MAX_CACHED_BLOCKS: usize = 512;

impl Default for Encoder {
    fn default() -> Self {
        Self {
            inserted: 0,
            entries: VecDeque::new(),
            by_field: std::collections::HashMap::new(),
            size: 0,
            max_size: MAX_TABLE_SIZE,
            size_update: None,
            blocks: std::collections::HashMap::new(),
            uncached: Box::default(),
            key: Vec::new(),
        }
    }
}

impl Encoder {
    /// The server's SETTINGS_HEADER_TABLE_SIZE: a smaller table is announced and used.
    pub fn set_max_size(&mut self, max: usize) {
        let max = max.min(MAX_TABLE_SIZE);
        if max < self.max_size {
            self.max_size = max;
            self.evict(0);
            self.size_update = Some(max);
            self.blocks.clear();
        }
    }

    /// The block for template `id`, whose fields `literal_block` holds as literals
    /// without indexing (`h2conn::encode_request_block`).
    pub fn block(&mut self, id: u64, literal_block: &[u8]) -> &[u8] {
        let fresh = matches!(self.blocks.get(&id), Some((at, _)) if *at == self.inserted)
            && self.size_update.is_none();
        if fresh {
            return &self.blocks[&id].1;
        }
        let before = self.inserted;
        let block = self.encode(literal_block);
        if self.inserted != before {
            // This block inserts into the table: it is sent once. The next encoding of
            // the template finds its fields indexed and is the one worth keeping.
            self.uncached = block;
            return &self.uncached;
        }
        if self.blocks.len() >= MAX_CACHED_BLOCKS {
            self.blocks.clear();
        }
        self.blocks.insert(id, (self.inserted, block));
        &self.blocks[&id].1
    }

    fn encode(&mut self, literal_block: &[u8]) -> Box<[u8]> {
        let mut fields: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let decoded =
            Decoder::default().decode(literal_block, |n, v| fields.push((n.to_vec(), v.to_vec())));
        debug_assert!(decoded.is_ok(), "templates encode valid blocks");
        let mut out = Vec::with_capacity(literal_block.len());
        if let Some(size) = self.size_update.take() {
            encode_int(&mut out, size, 5, 0x20);
        }
        for (name, value) in &fields {
            if let Some(index) = static_exact(name, value) {
                encode_int(&mut out, index, 7, 0x80);
                continue;
            }
            self.key.clear();
            self.key.extend_from_slice(name);
            self.key.push(0);
            self.key.extend_from_slice(value);
            if let Some(&seq) = self.by_field.get(&self.key[..]) {
                encode_int(
                    &mut out,
                    (self.inserted - seq) as usize + STATIC.len() + 1,
                    7,
                    0x80,
                );
                continue;
            }
            let size = name.len() + value.len() + ENTRY_OVERHEAD;
            let index = size <= self.max_size;
            let (flags, prefix) = if index { (0x40, 6) } else { (0x00, 4) };
            match static_name(name) {
                Some(i) => encode_int(&mut out, i, prefix, flags),
                None => {
                    out.push(flags);
                    encode_string(&mut out, name);
                }
            }
            encode_string(&mut out, value);
            if index {
                self.evict(size);
                self.inserted += 1;
                self.size += size;
                let key: Box<[u8]> = self.key.as_slice().into();
                self.by_field.insert(key.clone(), self.inserted);
                self.entries.push_back((key, size, self.inserted));
            }
        }
        out.into_boxed_slice()
    }

    fn evict(&mut self, room: usize) {
        while self.size + room > self.max_size {
            let Some((key, size, seq)) = self.entries.pop_front() else {
                break;
            };
            self.size -= size;
            if self.by_field.get(&key) == Some(&seq) {
                self.by_field.remove(&key);
            }
        }
    }
}

/// The static table index of exactly this field.
fn static_exact(name: &[u8], value: &[u8]) -> Option<usize> {
    STATIC
        .iter()
        .position(|(n, v)| n.as_bytes() == name && v.as_bytes() == value && !v.is_empty())
        .map(|i| i + 1)
}

/// The static table index of a field with this name.
fn static_name(name: &[u8]) -> Option<usize> {
    STATIC
        .iter()
        .position(|(n, _)| n.as_bytes() == name)
        .map(|i| i + 1)
}

/// An HPACK integer with an `prefix`-bit prefix; `flags` fills the first byte's high bits.
pub fn encode_int(out: &mut Vec<u8>, mut value: usize, prefix: u32, flags: u8) {
    let max = (1usize << prefix) - 1;
    if value < max {
        out.push(flags | value as u8);
        return;
    }
    out.push(flags | max as u8);
    value -= max;
    while value >= 128 {
        out.push((value % 128 + 128) as u8);
        value /= 128;
    }
    out.push(value as u8);
}

/// A raw (not Huffman-coded) string literal.
pub fn encode_string(out: &mut Vec<u8>, s: &[u8]) {
    encode_int(out, s.len(), 7, 0x00);
    out.extend_from_slice(s);
}

/// RFC 7541 Appendix A.
const STATIC: [(&str, &str); 61] = [
    (":authority", ""),
    (":method", "GET"),
    (":method", "POST"),
    (":path", "/"),
    (":path", "/index.html"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "200"),
    (":status", "204"),
    (":status", "206"),
    (":status", "304"),
    (":status", "400"),
    (":status", "404"),
    (":status", "500"),
    ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"),
    ("accept-language", ""),
    ("accept-ranges", ""),
    ("accept", ""),
    ("access-control-allow-origin", ""),
    ("age", ""),
    ("allow", ""),
    ("authorization", ""),
    ("cache-control", ""),
    ("content-disposition", ""),
    ("content-encoding", ""),
    ("content-language", ""),
    ("content-length", ""),
    ("content-location", ""),
    ("content-range", ""),
    ("content-type", ""),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("expect", ""),
    ("expires", ""),
    ("from", ""),
    ("host", ""),
    ("if-match", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("if-range", ""),
    ("if-unmodified-since", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("max-forwards", ""),
    ("proxy-authenticate", ""),
    ("proxy-authorization", ""),
    ("range", ""),
    ("referer", ""),
    ("refresh", ""),
    ("retry-after", ""),
    ("server", ""),
    ("set-cookie", ""),
    ("strict-transport-security", ""),
    ("transfer-encoding", ""),
    ("user-agent", ""),
    ("vary", ""),
    ("via", ""),
    ("www-authenticate", ""),
];

/// RFC 7541 Appendix B: the code length of each symbol (256 = EOS).
const HUFFMAN_LENGTHS: [u8; 257] = [
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28,
    28, 28, 28, 28, 28, 28, 28, 28, 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5,
    5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6,
    6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, 20, 22, 20, 20, 22, 22, 22, 23, 22,
    23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, 22,
    21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20,
    22, 22, 22, 23, 22, 22, 23, 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19,
    21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22,
    22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, 30,
];

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn decode_all(decoder: &mut Decoder, block: &[u8]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        decoder
            .decode(block, |n, v| {
                out.push((
                    String::from_utf8(n.to_vec()).unwrap(),
                    String::from_utf8(v.to_vec()).unwrap(),
                ))
            })
            .unwrap();
        out
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn huffman_strings_from_the_rfc() {
        // RFC 7541 C.4.1 and C.6.1.
        let mut out = Vec::new();
        huffman_decode(&hex("f1e3 c2e5 f23a 6ba0 ab90 f4ff"), &mut out).unwrap();
        assert_eq!(out, b"www.example.com");
        out.clear();
        huffman_decode(
            &hex("d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff"),
            &mut out,
        )
        .unwrap();
        assert_eq!(out, b"Mon, 21 Oct 2013 20:13:21 GMT");
        // Padding that is not EOS's prefix, and padding of 8 bits or more, are errors.
        assert!(huffman_decode(&[0x00], &mut Vec::new()).is_err());
        assert!(huffman_decode(&[0xff, 0xff], &mut Vec::new()).is_err());
    }

    #[test]
    fn every_symbol_round_trips() {
        // Encode each byte value with the canonical code, then decode.
        let c = code();
        let mut codes = [0u32; 257];
        let mut code_value: u32 = 0;
        let mut previous = 0u32;
        for (k, &s) in c.symbols.iter().enumerate() {
            let len = HUFFMAN_LENGTHS[s as usize] as u32;
            if k > 0 {
                code_value = (code_value + 1) << (len - previous);
            }
            previous = len;
            codes[s as usize] = code_value;
        }
        let text: Vec<u8> = (0..=255u8)
            .chain(b"grpc-status: 0".iter().copied())
            .collect();
        let (mut acc, mut bits, mut encoded) = (0u64, 0u32, Vec::new());
        for &b in &text {
            let len = HUFFMAN_LENGTHS[b as usize] as u32;
            acc = (acc << len) | codes[b as usize] as u64;
            bits += len;
            while bits >= 8 {
                encoded.push((acc >> (bits - 8)) as u8);
                bits -= 8;
            }
        }
        if bits > 0 {
            encoded.push(((acc << (8 - bits)) as u8) | (0xff >> bits));
        }
        let mut out = Vec::new();
        huffman_decode(&encoded, &mut out).unwrap();
        assert_eq!(out, text);
    }

    #[test]
    fn response_blocks_from_the_rfc_share_a_dynamic_table() {
        // RFC 7541 C.6: three responses with Huffman coding and a 256-byte table.
        let mut d = Decoder::default();
        d.decode(&[0x3f, 0xe1, 0x01], |_, _| {}).unwrap(); // size update to 256
        let first = hex(
            "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
             2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
        );
        assert_eq!(
            decode_all(&mut d, &first),
            pairs(&[
                (":status", "302"),
                ("cache-control", "private"),
                ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
                ("location", "https://www.example.com"),
            ])
        );
        assert_eq!(d.size, 222);
        let second = hex("4883 640e ff c1 c0 bf");
        assert_eq!(
            decode_all(&mut d, &second),
            pairs(&[
                (":status", "307"),
                ("cache-control", "private"),
                ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
                ("location", "https://www.example.com"),
            ])
        );
        assert_eq!(d.size, 222);
        let third = hex(
            "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
             77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
             9587 3160 65c0 03ed 4ee5 b106 3d50 07",
        );
        assert_eq!(
            decode_all(&mut d, &third),
            pairs(&[
                (":status", "200"),
                ("cache-control", "private"),
                ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
                ("location", "https://www.example.com"),
                ("content-encoding", "gzip"),
                (
                    "set-cookie",
                    "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"
                ),
            ])
        );
        assert_eq!(d.size, 215);
    }

    #[test]
    fn the_encoder_indexes_fields_and_a_decoder_follows() {
        let uri: http::Uri = "http://127.0.0.1:9/helloworld.Greeter/SayHello"
            .parse()
            .unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert("te", "trailers".parse().unwrap());
        headers.insert("content-type", "application/grpc".parse().unwrap());
        let literal = crate::net::h2conn::encode_request_block(&http::Method::POST, &uri, &headers);
        let other: http::Uri = "http://127.0.0.1:9/other".parse().unwrap();
        let literal2 =
            crate::net::h2conn::encode_request_block(&http::Method::GET, &other, &headers);
        let mut enc = Encoder::default();
        let mut dec = Decoder::default();
        let expected = decode_all(&mut Decoder::default(), &literal);
        let first = enc.block(1, &literal).to_vec();
        assert_eq!(decode_all(&mut dec, &first), expected);
        let second = enc.block(1, &literal).to_vec();
        // All indexed now: one byte per field.
        assert_eq!(second.len(), expected.len());
        assert_eq!(decode_all(&mut dec, &second), expected);
        // Another template inserts its :path; the first one's block is re-encoded with
        // the shifted indices and still decodes right.
        let expected2 = decode_all(&mut Decoder::default(), &literal2);
        assert_eq!(decode_all(&mut dec, enc.block(2, &literal2)), expected2);
        assert_eq!(decode_all(&mut dec, enc.block(1, &literal)), expected);
        assert_eq!(decode_all(&mut dec, enc.block(2, &literal2)), expected2);
        // A smaller table from the server is announced and respected.
        enc.set_max_size(0);
        assert_eq!(decode_all(&mut dec, enc.block(1, &literal)), expected);
        assert_eq!(dec.size, 0);
        assert_eq!(decode_all(&mut dec, enc.block(1, &literal)), expected);
    }

    #[test]
    fn many_fields_cycle_through_a_small_table_without_going_wrong() {
        let mut enc = Encoder::default();
        let mut dec = Decoder::default();
        for round in 0..3 {
            for i in 0..200u64 {
                let uri: http::Uri = format!("http://h:1/path/{i}/{}", "x".repeat(40))
                    .parse()
                    .unwrap();
                let literal = crate::net::h2conn::encode_request_block(
                    &http::Method::GET,
                    &uri,
                    &http::HeaderMap::new(),
                );
                let expected = decode_all(&mut Decoder::default(), &literal);
                let block = enc.block(i, &literal).to_vec();
                assert_eq!(
                    decode_all(&mut dec, &block),
                    expected,
                    "round {round} template {i}"
                );
            }
        }
        assert!(dec.size <= MAX_TABLE_SIZE);
    }

    #[test]
    fn bad_blocks_are_errors_not_panics() {
        let mut d = Decoder::default();
        assert!(d.decode(&[0x80], |_, _| {}).is_err()); // index 0
        assert!(d.decode(&[0xbf, 0x7f], |_, _| {}).is_err()); // beyond the tables
        assert!(d.decode(&[0x40, 0x05, b'a'], |_, _| {}).is_err()); // string past the end
        assert!(d
            .decode(&[0x3f, 0xff, 0xff, 0xff, 0xff, 0x7f], |_, _| {})
            .is_err());
        assert!(d.decode(&[0x0f], |_, _| {}).is_err()); // truncated integer
    }
}
