"""Brobygger's matching core: text, embeddings, the FAISS index and ranking over plain values.

Nothing here touches the database, the web layer or environment variables.
"""
