"""The proof system, composed over the native kernels. Nothing here knows limbs or threads."""
