"""The pure domain: identifiers, entities, metadata, events, canonical encoding, Merkle math.

Nothing here touches a database, the network or the file system.
"""
