"""Build the compiled exploration core; everything else is declared in pyproject.toml."""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [
            Extension("bftcheck.checker._core_c", ["checker/_core_c.pyx"],
                      include_dirs=["checker"]),
            Extension("bftcheck.checker._search_c", ["checker/_search_c.pyx"],
                      include_dirs=["checker"]),
            Extension("bftcheck.model._rules_c", ["model/_rules_c.pyx"], include_dirs=["checker"]),
        ],
        compiler_directives={"language_level": 3, "boundscheck": False, "wraparound": False},
        include_path=["checker"],  # native_model.pxi, for the models that provide the entry
    ),
)
