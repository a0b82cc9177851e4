"""The proof system, composed over the backend seam (zkdl.backend). Nothing here knows limbs or threads."""
