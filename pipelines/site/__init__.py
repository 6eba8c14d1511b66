"""The progress site (进展网站): static pages in Chinese from the published database."""

from pipelines.site.build import build_site, site_dir

__all__ = ["build_site", "site_dir"]
