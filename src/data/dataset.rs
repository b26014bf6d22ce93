//! The datasets actbench knows: for each, its name, classes, image shape, sizes, source, files
//! with their checksums, and download mirrors. One place for each dataset's facts.
//!
//! The checksums are literals here, copied from the SHA256SUMS files that accompany the datasets
//! (a test compares them with those files when the real data is present).

use std::fmt;

/// A dataset actbench can train on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dataset {
    /// Handwritten digits (LeCun, Cortes, Burges).
    Mnist,
    /// Zalando's clothing images, MNIST's format and sizes.
    FashionMnist,
    /// Krizhevsky's 32x32 colour images in 10 classes (the binary version).
    Cifar10,
}

/// One IDX file of a dataset: its canonical name (raw; `.gz` is accepted too) and the SHA-256 of
/// its decompressed bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdxFile {
    /// File name without `.gz`, e.g. `train-images-idx3-ubyte`.
    pub name: &'static str,
    /// Lowercase hex SHA-256 of the decompressed file.
    pub sha256: &'static str,
}

/// The four files of an MNIST-format dataset, in the order train images, train labels, test
/// images, test labels.
pub type IdxFiles = [IdxFile; 4];

/// MNIST's file names, shared by Fashion-MNIST.
pub const IDX_NAMES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

const MNIST_FILES: IdxFiles = [
    IdxFile {
        name: IDX_NAMES[0],
        sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    },
    IdxFile {
        name: IDX_NAMES[1],
        sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    },
    IdxFile {
        name: IDX_NAMES[2],
        sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    },
    IdxFile {
        name: IDX_NAMES[3],
        sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
];

const FASHION_FILES: IdxFiles = [
    IdxFile {
        name: IDX_NAMES[0],
        sha256: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    },
    IdxFile {
        name: IDX_NAMES[1],
        sha256: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    },
    IdxFile {
        name: IDX_NAMES[2],
        sha256: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    },
    IdxFile {
        name: IDX_NAMES[3],
        sha256: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
];

impl Dataset {
    /// Every dataset, in the order `actbench datasets` lists them.
    pub const ALL: [Dataset; 3] = [Dataset::Mnist, Dataset::FashionMnist, Dataset::Cifar10];

    /// The name used on the command line, in result files and as the data subfolder.
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Mnist => "mnist",
            Dataset::FashionMnist => "fashion-mnist",
            Dataset::Cifar10 => "cifar10",
        }
    }

    /// The name people write, for messages and plot titles.
    pub fn title(self) -> &'static str {
        match self {
            Dataset::Mnist => "MNIST",
            Dataset::FashionMnist => "Fashion-MNIST",
            Dataset::Cifar10 => "CIFAR-10",
        }
    }

    /// Parse a command-line name (case-insensitive; `fashion_mnist`, `fashion`, `cifar-10` and
    /// `cifar` accepted).
    pub fn from_name(name: &str) -> Result<Dataset, String> {
        let n = name.trim().to_ascii_lowercase().replace('_', "-");
        match n.as_str() {
            "mnist" => Ok(Dataset::Mnist),
            "fashion-mnist" | "fashion" | "fashionmnist" => Ok(Dataset::FashionMnist),
            "cifar10" | "cifar-10" | "cifar" => Ok(Dataset::Cifar10),
            _ => Err(format!(
                "unknown dataset '{name}' (valid: {})",
                Dataset::ALL.map(Dataset::name).join(", ")
            )),
        }
    }

    /// Class names, index = label.
    pub fn classes(self) -> &'static [&'static str] {
        match self {
            Dataset::Mnist => &["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
            Dataset::FashionMnist => &[
                "T-shirt/top",
                "Trouser",
                "Pullover",
                "Dress",
                "Coat",
                "Sandal",
                "Shirt",
                "Sneaker",
                "Bag",
                "Ankle boot",
            ],
            Dataset::Cifar10 => &[
                "airplane",
                "automobile",
                "bird",
                "cat",
                "deer",
                "dog",
                "frog",
                "horse",
                "ship",
                "truck",
            ],
        }
    }

    /// Image shape as (channels, rows, cols).
    pub fn shape(self) -> (usize, usize, usize) {
        match self {
            Dataset::Mnist | Dataset::FashionMnist => (1, 28, 28),
            Dataset::Cifar10 => (3, 32, 32),
        }
    }

    /// Inputs per image (channels x rows x cols).
    pub fn inputs(self) -> usize {
        let (c, r, w) = self.shape();
        c * r * w
    }

    /// Images in the (training, test) files.
    pub fn sizes(self) -> (usize, usize) {
        match self {
            Dataset::Mnist | Dataset::FashionMnist => (60_000, 10_000),
            Dataset::Cifar10 => (50_000, 10_000),
        }
    }

    /// Where the data comes from.
    pub fn source(self) -> &'static str {
        match self {
            Dataset::Mnist => "Y. LeCun, C. Cortes, C. J. C. Burges; yann.lecun.com/exdb/mnist",
            Dataset::FashionMnist => {
                "Zalando Research (H. Xiao, K. Rasul, R. Vollgraf, 2017, MIT licence); github.com/zalandoresearch/fashion-mnist"
            }
            Dataset::Cifar10 => {
                "A. Krizhevsky, 2009, Learning Multiple Layers of Features from Tiny Images; www.cs.toronto.edu/~kriz/cifar.html"
            }
        }
    }

    /// The dataset's IDX files with their published checksums; `None` for CIFAR-10 (one
    /// archive, see [`super::cifar`]).
    pub fn idx_files(self) -> Option<&'static IdxFiles> {
        match self {
            Dataset::Mnist => Some(&MNIST_FILES),
            Dataset::FashionMnist => Some(&FASHION_FILES),
            Dataset::Cifar10 => None,
        }
    }

    /// The files `actbench fetch` puts in the dataset's folder, in a few words.
    pub fn file_summary(self) -> String {
        match self.idx_files() {
            Some(files) => {
                let names: Vec<String> = files.iter().map(|f| format!("{}.gz", f.name)).collect();
                format!("{} (SHA-256 checked)", names.join(", "))
            }
            None => format!(
                "{} (MD5 checked), or the extracted {}/",
                super::cifar::ARCHIVE,
                super::cifar::FOLDER
            ),
        }
    }

    /// Public download mirrors (base URLs ending in `/`).
    pub fn default_mirrors(self) -> &'static [&'static str] {
        match self {
            Dataset::Mnist => &[
                "https://ossci-datasets.s3.amazonaws.com/mnist/",
                "https://storage.googleapis.com/cvdf-datasets/mnist/",
            ],
            Dataset::FashionMnist => {
                &["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
            }
            Dataset::Cifar10 => &["https://www.cs.toronto.edu/~kriz/"],
        }
    }

    /// The environment variable that replaces the mirrors (comma-separated base URLs), e.g.
    /// `ACTBENCH_MNIST_MIRRORS`.
    pub fn mirrors_env(self) -> String {
        format!(
            "ACTBENCH_{}_MIRRORS",
            self.name().to_ascii_uppercase().replace('-', "_")
        )
    }

    /// Mirror base URLs: the environment variable's list when set, else the public defaults.
    pub fn mirrors(self) -> Vec<String> {
        match std::env::var(self.mirrors_env()) {
            Ok(list) if !list.trim().is_empty() => list
                .split(',')
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(|m| format!("{}/", m.trim_end_matches('/')))
                .collect(),
            _ => self
                .default_mirrors()
                .iter()
                .map(|m| m.to_string())
                .collect(),
        }
    }
}

/// `actbench datasets`: each dataset with its classes, image shape, sizes, source and files.
pub fn table() -> String {
    let thousands = |n: usize| {
        let s = n.to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
    let mut out = String::new();
    for d in Dataset::ALL {
        let (c, r, w) = d.shape();
        let (train, test) = d.sizes();
        let channels = if c == 1 {
            "1 channel"
        } else {
            "3 channels (RGB)"
        };
        out += &format!("{} ({})\n", d.name(), d.title());
        out += &format!(
            "  images   {r}x{w}, {channels}: {} inputs to the dense network\n",
            d.inputs()
        );
        out += &format!(
            "  sizes    {} training, {} test images\n",
            thousands(train),
            thousands(test)
        );
        out += &format!("  classes  {}\n", d.classes().join(", "));
        out += &format!("  source   {}\n", d.source());
        out += &format!("  files    {}\n\n", d.file_summary());
    }
    out
}

/// The title of a dataset recorded by `name` in result files (`fashion-mnist` ->
/// `Fashion-MNIST`); a name that is no published dataset (data given through the library) is
/// its own title.
pub fn title_of(name: &str) -> String {
    Dataset::from_name(name).map_or_else(|_| name.to_string(), |d| d.title().to_string())
}

impl fmt::Display for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Dataset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dataset::from_name(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_valid_ones() {
        for d in Dataset::ALL {
            assert_eq!(d.name().parse::<Dataset>(), Ok(d));
            assert_eq!(d.classes().len(), 10);
        }
        assert_eq!(
            "Fashion_MNIST".parse::<Dataset>(),
            Ok(Dataset::FashionMnist)
        );
        assert_eq!("CIFAR-10".parse::<Dataset>(), Ok(Dataset::Cifar10));
        let err = "imagenet".parse::<Dataset>().unwrap_err();
        assert_eq!(
            err,
            "unknown dataset 'imagenet' (valid: mnist, fashion-mnist, cifar10)"
        );
        assert_eq!(
            Dataset::FashionMnist.mirrors_env(),
            "ACTBENCH_FASHION_MNIST_MIRRORS"
        );
    }
}
