package org.llamajava.multimodal;

/** What a {@link Media} input holds. */
public enum MediaType {
    /** A picture: encoded (PNG, JPEG, GIF, BMP, PSD, PNM, HDR) or raw RGB pixels. */
    IMAGE,
    /** Sound: encoded (WAV, MP3, FLAC) or mono float PCM at the projector's sample rate. */
    AUDIO
}
