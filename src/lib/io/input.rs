//! Opening inputs: a named file or stdin (`-`), with zstd and gzip recognised by their
//! magic bytes (so a `.log` that is really gzip still reads, and `.zst` needs no flag).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];
const GZIP_MAGIC: [u8; 2] = [0x1F, 0x8B];
const BUF_SIZE: usize = 256 * 1024;

/// Where records come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputSpec {
    Stdin,
    Path(PathBuf),
}

impl InputSpec {
    /// Files named as arguments, or stdin when there are none; `-` means stdin.
    pub fn from_args(args: &[PathBuf]) -> Vec<InputSpec> {
        if args.is_empty() {
            return vec![InputSpec::Stdin];
        }
        args.iter().map(|p| if p.as_os_str() == "-" { InputSpec::Stdin } else { InputSpec::Path(p.clone()) }).collect()
    }

    /// The name used in error records and messages.
    pub fn name(&self) -> String {
        match self {
            InputSpec::Stdin => "-".to_owned(),
            InputSpec::Path(p) => p.display().to_string(),
        }
    }

    /// Opens the input, decompressing transparently.
    pub fn open(&self) -> io::Result<Box<dyn BufRead + Send>> {
        match self {
            InputSpec::Stdin => decompress(BufReader::with_capacity(BUF_SIZE, io::stdin())),
            InputSpec::Path(p) => open_input(p),
        }
    }
}

/// Opens a file for reading, decompressing zstd or gzip when its first bytes say so.
pub fn open_input(path: &Path) -> io::Result<Box<dyn BufRead + Send>> {
    let file = File::open(path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    decompress(BufReader::with_capacity(BUF_SIZE, file))
}

fn decompress<R: Read + Send + 'static>(mut reader: BufReader<R>) -> io::Result<Box<dyn BufRead + Send>> {
    let head = reader.fill_buf()?;
    if head.starts_with(&ZSTD_MAGIC) {
        let decoder = zstd::Decoder::with_buffer(reader)?;
        return Ok(Box::new(BufReader::with_capacity(BUF_SIZE, decoder)));
    }
    if head.starts_with(&GZIP_MAGIC) {
        let decoder = flate2::bufread::MultiGzDecoder::new(reader);
        return Ok(Box::new(BufReader::with_capacity(BUF_SIZE, decoder)));
    }
    Ok(Box::new(reader))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn read_all(path: &Path) -> String {
        let mut s = String::new();
        open_input(path).unwrap().read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn reads_plain_zstd_and_gzip_alike() {
        let dir = tempfile::tempdir().unwrap();
        let text = "line one\nline two\n";
        let plain = dir.path().join("a.log");
        std::fs::write(&plain, text).unwrap();
        let zst = dir.path().join("a.log.zst");
        std::fs::write(&zst, zstd::encode_all(text.as_bytes(), 3).unwrap()).unwrap();
        let gz = dir.path().join("a.log.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(text.as_bytes()).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        assert_eq!(read_all(&plain), text);
        assert_eq!(read_all(&zst), text);
        assert_eq!(read_all(&gz), text);
    }

    #[test]
    fn missing_file_error_names_the_file() {
        let err = open_input(Path::new("/nonexistent/zeek.log")).err().unwrap();
        assert!(err.to_string().contains("/nonexistent/zeek.log"), "{err}");
    }

    #[test]
    fn dash_means_stdin() {
        let specs = InputSpec::from_args(&[PathBuf::from("-"), PathBuf::from("x")]);
        assert_eq!(specs, vec![InputSpec::Stdin, InputSpec::Path("x".into())]);
        assert_eq!(InputSpec::from_args(&[]), vec![InputSpec::Stdin]);
    }
}
