"""zkdl: zero-knowledge proofs of MLP training runs, a model registry on Ethereum, and the
services around them. Submodules are imported on use, so `import zkdl` stays cheap."""

__version__ = "0.1.0"
