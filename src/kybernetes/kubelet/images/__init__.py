"""A node's images: references, the content-addressed store, archive import, registry
pull, garbage collection and the CRI ImageService on top (`service.LocalImageService`).

The oci runtime reads images through `store.ImageStore` (resolve, config, layer_paths).
"""
