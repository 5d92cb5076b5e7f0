using VqaApi.Rendering;

namespace VqaApi.Api.Inputs;

/// <summary>
/// An image a request names but that is not fetched or decoded yet: a JSON <see cref="ImageInput"/> (base64 or URL) or the
/// bytes of an uploaded file. Endpoints read the whole body, decide every refusal that needs no image, and only then
/// fetch and decode.
/// </summary>
public sealed class ImageSource
{
    private readonly ImageInput? _input;
    private readonly byte[]? _upload;

    private ImageSource(ImageInput? input, byte[]? upload, string field) => (_input, _upload, Field) = (input, upload, field);

    /// <summary>The request field, as error messages name it.</summary>
    public string Field { get; }

    public static ImageSource FromJson(ImageInput input, string field) => new(input, null, field);
    public static ImageSource FromUpload(byte[] bytes, string field) => new(null, bytes, field);

    /// <summary>The encoded bytes: decoded from base64, fetched (with the SSRF guard), or as uploaded.</summary>
    public async Task<byte[]> FetchBytesAsync(ImageInputs inputs, CancellationToken ct) =>
        _upload ?? await inputs.FetchBytesAsync(_input!, Field, ct);

    public async Task<DecodedImage> DecodeAsync(ImageInputs inputs, CancellationToken ct) =>
        await inputs.DecodeAsync(await FetchBytesAsync(inputs, ct), Field, ct);
}
