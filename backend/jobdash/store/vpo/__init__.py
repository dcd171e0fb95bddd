"""The read-only VPO source: an existing VPO library database, shown live, never written.

Owns: opening VPO's database without writing a byte to it or its folder
(``connection``), its schema versions and columns (``schema``), mapping VPO's rows to
the store's row shape (``rows``), VPO's job logs (``logs``), and :class:`VpoStore`
behind the store interface (``store``).
"""
